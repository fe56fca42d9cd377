package httpx_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
)

// API requests lacking a field are refused as malformed, naming the field
// (SPEC §2.3, §15.3, §15.6).
func TestDecodeBodyRequiresFields(t *testing.T) {
	decode := func(v any) func([]byte) error {
		return func(b []byte) error {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
			return httpx.DecodeBody(httptest.NewRecorder(), r, 1<<16, v)
		}
	}
	strictjsontest.RequireFields(t, []byte(`{"voter":"v1","code":"ABCD","blinded":"AAEC"}`),
		decode(new(api.RegisterRequest)), "voter", "code", "blinded")
	strictjsontest.RequireFields(t, []byte(`{"blinded":"AAEC"}`), decode(new(api.OIDCStartRequest)), "blinded")
}
