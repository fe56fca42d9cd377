// Package vectors holds no code: its tests check koe against the test
// vectors in testdata/vectors (SPEC.md §12), and regenerate them.
//
// The vectors are for other implementations as much as for this one, so
// they live apart from the code and are documented in
// testdata/vectors/README.md. A normal test run checks every vector:
//
//	go test ./internal/vectors
//
// After a deliberate change to the protocol, regenerate them with
//
//	go test ./internal/vectors -run TestGenerate -args -update
//
// and review the diff: any change to a vector is a change to koe/v2.
package vectors
