package server

import (
	"net/url"
	"strconv"
	"testing"
)

// FuzzParseTreeSizes: any query either is refused or gives two sizes
// 0 ≤ from ≤ to that are written exactly as the query wrote them.
func FuzzParseTreeSizes(f *testing.F) {
	for _, s := range []string{"from=0&to=0", "from=3&to=13", "from=13&to=3", "from=01&to=2", "from=-1&to=2",
		"from=1&from=1&to=2", "from=1", "to=99999999999999999999&from=1", "from=%31&to=2", "from=1+&to=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		from, to, err := parseTreeSizes(q)
		if err != nil {
			return
		}
		if from < 0 || from > to || strconv.FormatInt(from, 10) != q.Get("from") || strconv.FormatInt(to, 10) != q.Get("to") {
			t.Fatalf("%q gave from %d, to %d", raw, from, to)
		}
	})
}
