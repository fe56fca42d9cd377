package api

// ConsistencyProof answers GET /elections/{id}/consistency?from=M&to=N
// (SPEC.md §13.5): the RFC 9162 §2.1.4 consistency proof from the board's
// tree of size M to its tree of size N, each hash as 64 lowercase hex
// digits (empty if M is 0 or equal to N).
type ConsistencyProof struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof"`
}
