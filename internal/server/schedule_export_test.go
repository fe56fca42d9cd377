package server

import "context"

// RunSchedule makes the schedule's moves that are due at s's clock now, as
// a tick of its interval does.
func RunSchedule(s *Server) { s.scheduleOnce(context.Background()) }
