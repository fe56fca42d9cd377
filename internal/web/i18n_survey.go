package web

import "fmt"

// msgFor is msg, with a survey's wording when survey is true.
// A catalogue file keeps a survey's wording of key as "survey." + key.
func msgFor(lang, key string, survey bool, args ...any) string {
	if !survey {
		return msg(lang, key, args...)
	}
	if m, ok := lookupIn(lang, "survey."+key, args); ok {
		if len(args) == 0 {
			return m
		}
		return fmt.Sprintf(m, args...)
	}
	return msg(lang, key, args...)
}

// surveyKind is implemented by page data about one election.
type surveyKind interface{ survey() bool }

func (ev *electionView) survey() bool { return ev != nil && ev.Info != nil && ev.Info.Kind == "survey" }
