package registrar

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/server/httpx"
)

// Registration by digital ID (SPEC.md §15.6).
//
// The voter's device makes its blinded credential request, then asks
// POST /oidc/start for the provider's authorization URL; the server keeps
// the blinded message, the PKCE verifier and the nonce under a fresh state
// (single-use, ten minutes). The provider sends the browser back to
// GET /oidc/callback with the code and the state; the server redeems the
// code, verifies the ID token, evaluates the election's eligibility rules
// on its claims, and issues the credential to the keyed hash of the
// identity claim — the same hash, in the same namespace, as a voter id on
// the roll. The board's credential-issued entry names only
// d = H256("koe/v2/roll/digital-id"; election, blinded), which the
// voter's device can recompute and nobody else can tie to a person.
// Nothing of the identity, the claims, the tokens or the code is logged
// or stored.

// oidcClient returns the election's provider client, or nil.
func (rg *Registrar) oidcClient() *oidcreg.Client {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if rg.cfg.OIDC == nil {
		return nil
	}
	if rg.oidc == nil {
		rg.oidc = oidcreg.NewClient(*rg.cfg.OIDC, nil, rg.cfg.Now)
	}
	return rg.oidc
}

// OIDCStart answers POST /elections/{id}/oidc/start (SPEC.md §15.6).
func (rg *Registrar) OIDCStart(w http.ResponseWriter, r *http.Request) error {
	if !rg.cfg.Limiter.Allow(r) {
		w.Header().Set("Retry-After", "10")
		return httpx.Errorf(http.StatusTooManyRequests, api.CodeRateLimited, "too many registration attempts; wait a little and try again")
	}
	var req api.OIDCStartRequest
	if err := httpx.DecodeBody(w, r, MaxRegisterBody, &req); err != nil {
		return err
	}
	if err := rg.open(r.Context()); err != nil {
		return err
	}
	client := rg.oidcClient()
	if client == nil {
		return httpx.Errorf(http.StatusNotFound, api.CodeNoDigitalId, "the election %s has no digital-ID registration", rg.cfg.Election)
	}
	if err := rg.cfg.Key.CheckBlinded(req.Blinded); err != nil {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "blinded message: %v", err)
	}
	st := oidcreg.NewStart()
	u, err := client.AuthCodeURL(r.Context(), st)
	if err != nil {
		return httpx.Errorf(http.StatusBadGateway, oidcreg.ReasonUnavailable, "%v", err)
	}
	p := oidcreg.Pending{Election: rg.cfg.Election, Blinded: req.Blinded, Verifier: st.Verifier, Nonce: st.Nonce, Expires: rg.cfg.Now().Add(oidcreg.PendingTTL)}
	if err := rg.cfg.Pending.Put(r.Context(), st.State, p); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, api.OIDCStartResponse{AuthorizationURL: u})
	return nil
}

// OIDCCallback answers GET /elections/{id}/oidc/callback with a page (or JSON, if asked for) and never an
// error that quotes the request: the query holds the code and the state.
func (rg *Registrar) OIDCCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	sig, d, err := rg.oidcRegister(r)
	if err != nil {
		var he *httpx.Error
		if !errors.As(err, &he) {
			rg.cfg.Log.Error("internal error", "route", r.Pattern, "err", err)
			he = httpx.Errorf(http.StatusInternalServerError, api.CodeInternal, "internal error")
		}
		if wantsJSON(r) {
			httpx.WriteError(w, he)
			return
		}
		writePage(w, he.Status, page{Failed: true, Code: he.Code, Detail: he.Msg, Text: reasonText(he.Code)})
		return
	}
	issuance := hex.EncodeToString(d[:])
	if wantsJSON(r) {
		httpx.WriteJSON(w, http.StatusOK, api.OIDCCallbackResponse{BlindSignature: sig, Issuance: issuance})
		return
	}
	if rg.cfg.OIDCReturn != nil {
		// The fragment never leaves the browser; the page's script reads it.
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, rg.cfg.OIDCReturn(r.PathValue("id"))+"#blind-signature="+base64.RawURLEncoding.EncodeToString(sig)+"&issuance="+issuance, http.StatusSeeOther)
		return
	}
	writePage(w, http.StatusOK, page{Signature: base64.StdEncoding.EncodeToString(sig), Issuance: issuance})
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// oidcRegister runs the callback and returns the blind signature, issued,
// and the value d its credential-issued entry names (SPEC.md §15.6).
func (rg *Registrar) oidcRegister(r *http.Request) ([]byte, [32]byte, error) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return nil, [32]byte{}, httpx.Errorf(http.StatusBadRequest, api.CodeUnknownState, "the callback has no state")
	}
	// The state is consumed whatever happens next: a callback is
	// single-use.
	p, err := rg.cfg.Pending.Take(r.Context(), state)
	if errors.Is(err, oidcreg.ErrUnknownState) || (err == nil && p.Election != rg.cfg.Election) {
		return nil, [32]byte{}, httpx.Errorf(http.StatusBadRequest, api.CodeUnknownState, "this sign-in's state is unknown, was used already, or expired")
	}
	if err != nil {
		return nil, [32]byte{}, err
	}
	if e := q.Get("error"); e != "" {
		return nil, [32]byte{}, httpx.Errorf(http.StatusForbidden, api.CodeProviderError, "the provider did not sign you in: %s", sanitize(e))
	}
	code := q.Get("code")
	if code == "" {
		return nil, [32]byte{}, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "the callback has no authorization code")
	}
	if err := rg.open(r.Context()); err != nil {
		return nil, [32]byte{}, err
	}
	client := rg.oidcClient()
	if client == nil {
		return nil, [32]byte{}, httpx.Errorf(http.StatusNotFound, api.CodeNoDigitalId, "the election %s has no digital-ID registration", rg.cfg.Election)
	}
	claims, err := client.Exchange(r.Context(), code, p.Verifier, p.Nonce)
	if err != nil {
		var oe *oidcreg.Error
		if !errors.As(err, &oe) {
			return nil, [32]byte{}, err
		}
		status := http.StatusForbidden
		if oe.Reason == oidcreg.ReasonUnavailable {
			status = http.StatusBadGateway
		}
		return nil, [32]byte{}, httpx.Errorf(status, oe.Reason, "%s", oe.Detail)
	}
	identity, err := client.Identity(claims)
	if err != nil {
		return nil, [32]byte{}, httpx.Errorf(http.StatusForbidden, oidcreg.ReasonNoIdentity, "%v", err)
	}
	if err := oidcreg.Check(client.Config().Rules, claims, rg.ageDay()); err != nil {
		return nil, [32]byte{}, httpx.Errorf(http.StatusForbidden, api.CodeNotEligible, "%v", err)
	}
	// The identity meets the roll's voter ids, which are folded (SPEC.md
	// §15.3, §15.6).
	if v, err := credential.NormalizeVoter(identity); err == nil {
		identity = v
	}
	d := credential.DigitalIDEntry(rg.cfg.Election, p.Blinded)
	sig, err := rg.issue(r.Context(), rg.hash("voter", identity), [32]byte{}, p.Blinded, board.Issuance{DigitalID: true, Value: d})
	return sig, d, err
}

// ageDay is the day on which ages are computed: the election's close if
// the manifest names one, else today.
func (rg *Registrar) ageDay() time.Time {
	if t, err := time.Parse(time.RFC3339, rg.cfg.Closes); err == nil {
		return t
	}
	return rg.cfg.Now()
}

// sanitize keeps a provider's error code printable and short.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

type page struct {
	Failed    bool
	Code      string
	Detail    string
	Text      [2]string // ja, en
	Signature string
	Issuance  string // hex(d), the voter's receipt
}

// reasonText explains a failure to the voter, in Japanese and English.
func reasonText(code string) [2]string {
	switch code {
	case "unknown-state":
		return [2]string{"このサインインは無効です（使用済み・期限切れ・不明のいずれか）。登録ページから最初からやり直してください。", "This sign-in is not valid: it was used already, it expired, or it is unknown. Start again from the registration page."}
	case oidcreg.ReasonUnavailable:
		return [2]string{"認証サービスに接続できませんでした。しばらくしてからやり直してください。", "The sign-in service could not be reached. Try again later."}
	case oidcreg.ReasonNoVerifier:
		return [2]string{"このサインインには PKCE 検証コードがないため、認可コードを使用しませんでした。最初からやり直してください。", "This sign-in has no PKCE verifier, so its authorization code was not redeemed. Start again."}
	case oidcreg.ReasonExchange:
		return [2]string{"認証サービスが認可コードを受け付けませんでした（PKCE 検証コードの不一致・欠落やコードの再使用など）。最初からやり直してください。", "The sign-in service refused the authorization code (a wrong or missing PKCE verifier, or a code used twice). Start again."}
	case oidcreg.ReasonNoIDToken, oidcreg.ReasonBadSignature:
		return [2]string{"ID トークンの署名を検証できませんでした。", "The ID token's signature could not be verified."}
	case oidcreg.ReasonWrongIssuer:
		return [2]string{"ID トークンの発行者が、この投票に設定された認証サービスではありません。", "The ID token was not issued by the sign-in service configured for this election."}
	case oidcreg.ReasonAudience:
		return [2]string{"ID トークンがこの投票あてに発行されたものではありません。", "The ID token was not issued for this election."}
	case oidcreg.ReasonExpired:
		return [2]string{"ID トークンの有効期限が切れています。最初からやり直してください。", "The ID token has expired. Start again."}
	case oidcreg.ReasonNonce:
		return [2]string{"ID トークンがこのサインインのものではありません（再送されたトークンの可能性があります）。", "The ID token does not belong to this sign-in (it may have been replayed)."}
	case oidcreg.ReasonUserInfo:
		return [2]string{"認証サービスから利用者情報を取得できませんでした。", "Your details could not be obtained from the sign-in service."}
	case oidcreg.ReasonNoIdentity:
		return [2]string{"認証サービスが本人を識別する情報を送りませんでした。", "The sign-in service did not send what identifies you."}
	case "not-eligible":
		return [2]string{"この投票の参加資格の条件を満たしていないため、登録できません。", "You do not meet the conditions to take part in this election, so you cannot register."}
	case "already-registered":
		return [2]string{"この方には、この投票の資格情報がすでに発行されています。同じ方に二つ目は発行できません。", "A credential for this election was already issued to you. A second one cannot be issued."}
	case "provider-error":
		return [2]string{"認証サービスでサインインが完了しませんでした。", "The sign-in was not completed at the sign-in service."}
	case "not-open":
		return [2]string{"この投票はまだ始まっていません。", "This election is not open yet."}
	case "closed":
		return [2]string{"この投票は締め切られました。", "This election is closed."}
	}
	return [2]string{"登録できませんでした。", "Registration failed."}
}

func writePage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	callbackPage.Execute(w, p)
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{if .Failed}}登録できませんでした / Registration failed{{else}}本人確認が完了しました / Signed in{{end}} — koe</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}.en{color:#333}code{font-size:.9em}</style>
</head>
<body>
<main>
{{- if .Failed}}
<h1>登録できませんでした <span lang="en">/ Registration failed</span></h1>
<p id="reason" data-code="{{.Code}}">{{index .Text 0}}</p>
<p class="en" lang="en">{{index .Text 1}}</p>
<p class="en" lang="en"><small>Details: <code>{{.Code}}</code> — {{.Detail}}</small></p>
<p>投票用の資格情報は発行されていません。 <span lang="en">No credential was issued.</span></p>
{{- else}}
<h1>本人確認が完了しました <span lang="en">/ You are signed in</span></h1>
<p>投票用の資格情報への署名を受け取りました。この画面から投票ページに戻ってください。</p>
<p class="en" lang="en">The registrar has signed your voting credential. Return to the voting page from here.</p>
<output id="blind-signature" data-value="{{.Signature}}" hidden></output>
<p>登録の控え（掲示板の発行記録の値）: <code id="issuance">{{.Issuance}}</code></p>
<p class="en" lang="en">Your registration receipt (the value of its issuance entry on the board): <code>{{.Issuance}}</code></p>
{{- end}}
</main>
</body>
</html>
`))
