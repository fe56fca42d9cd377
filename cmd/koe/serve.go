package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/letters"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/web"
)

const boardKeyPrefix = "koe-board-secret-v1:"

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe serve", "koe serve [--data DIR] [--db postgres://…] [--listen ADDR] [--origin HOST] [--city NAME] [--contact LINE] [--letter-font FILE] [--demo VOTERS [--demo-manifest NAME]]", stderr)
	data := fs.String("data", "koe-data", "directory for the SQLite database and the server's keys")
	db := fs.String("db", "", "PostgreSQL URL (postgres://…); default: SQLite in --data")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	origin := fs.String("origin", "", "host name that names this server's boards in checkpoints (default: the listen host)")
	tokenFile := fs.String("admin-token-file", "", "file holding the administrator's token (default: $KOE_ADMIN_TOKEN, or a new one in DATA/admin-token)")
	boardKeyFile := fs.String("board-key", "", "file holding the board's signing key; several front ends share it (default: DATA/board.key, made if missing)")
	registrarBits := fs.Int("registrar-bits", 3072, "RSA modulus size of each election's registrar key")
	registerRate := fs.Float64("register-rate", 1, "registrations per second allowed from one client address")
	registerBurst := fs.Int("register-burst", 10, "registrations one client address may make at once")
	castRate := fs.Float64("cast-rate", 3.0/60, "casts per second allowed for one credential (re-votes)")
	castBurst := fs.Int("cast-burst", 4, "casts one credential may make at once")
	spoilRate := fs.Float64("spoil-rate", 0.1, "spoiled (challenged) ballots per second allowed from one client address")
	spoilBurst := fs.Int("spoil-burst", 10, "spoiled ballots one client address may post at once")
	registerInterval := fs.Duration("register-interval", server.DefaultRegisterInterval,
		"publish credential issuances in batches at this interval, shuffled, with the batch's time, so that no one links a registration to its ballot by board order or time (a registration waits for its batch; 0: one by one, linkable)")
	castInterval := fs.Duration("cast-interval", server.DefaultCastInterval,
		"append ballots in batches at this interval, shuffled, with the batch's time (a cast waits for its batch before its receipt; 0: one by one, linkable)")
	letterFont := fs.String("letter-font", os.Getenv("KOE_LETTER_FONT"), "TrueType font (.ttf) for the letters' PDFs (default: $KOE_LETTER_FONT, or Debian's IPAex Gothic, fonts-ipaexfont-gothic)")
	city := fs.String("city", "", "the city's name, printed on the letters")
	contact := fs.String("contact", "", "the city's contact line (who to ask, a telephone number), printed on the letters")
	demoVoters := fs.Int("demo", 0, "set up a survey to try koe with, with this many voters (trustees inside this server: for trying only)")
	demoManifest := fs.String("demo-manifest", "survey", "with --demo: the example to set up: "+strings.Join(examples.Names(), ", ")+" (city-survey has free-text and ranking questions, which the demo's trustees mix)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *registerInterval < 0 || *castInterval < 0 || *registerInterval > 2*time.Minute || *castInterval > time.Minute {
		return usagef("--register-interval must be between 0 and 2m and --cast-interval between 0 and 1m: requests wait for their batch")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	var st store.Store
	var err error
	if *db != "" {
		st, err = postgres.Open(context.Background(), *db)
		if err != nil {
			return withHint(err, "check the URL; scripts/postgres starts a local server")
		}
	} else {
		st, err = sqlite.Open(filepath.Join(*data, "koe.db"))
		if err != nil {
			return err
		}
	}
	defer st.Close()

	if *boardKeyFile == "" {
		*boardKeyFile = filepath.Join(*data, "board.key")
	}
	key, err := loadOrMakeBoardKey(*boardKeyFile)
	if err != nil {
		return err
	}
	token, where, err := adminToken(*tokenFile, *data)
	if err != nil {
		return err
	}
	host := *origin
	if host == "" {
		host, _, _ = net.SplitHostPort(*listen)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host, _ = os.Hostname()
		}
	}
	srv, err := server.New(server.Config{Store: st, Origin: host, BoardKey: key, AdminToken: token, RegistrarBits: *registrarBits,
		RegisterRate: *registerRate, RegisterBurst: *registerBurst, Logger: log,
		CastRate: *castRate, CastBurst: *castBurst, SpoilRate: *spoilRate, SpoilBurst: *spoilBurst,
		RegisterInterval: *registerInterval, CastInterval: *castInterval,
		OIDCReturn: func(id string) string { return "/elections/" + url.PathEscape(id) + "/vote" }})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// Without the letters' font the server runs, and its console says
	// where it offers the PDFs why it cannot make them.
	if _, err := letters.LoadFont(*letterFont); err != nil {
		log.Warn("the letters cannot be made as PDF", "err", err.Error(), "hint", letters.FontHint)
	}
	site := web.Options{AdminToken: token, Staff: st, Logger: log, LetterFont: *letterFont, City: *city, Contact: *contact}
	hs := &http.Server{Handler: siteAndAPI(srv.Handler(), site), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "koe serving on http://%s (boards named %s/koe/…)\n", ln.Addr(), host)
	if where != "" {
		fmt.Fprintf(stdout, "The administrator's token is in %s\n", where)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	running, stop := context.WithCancel(context.Background())
	defer stop()
	if *demoVoters > 0 {
		if err := serveDemo(running, "http://"+ln.Addr().String(), token, *data, *demoManifest, *demoVoters, stdout, log); err != nil {
			hs.Close()
			return err
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errc:
		return err
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Commit the registrations and casts waiting for their batch now, so
	// their requests are answered; then finish the requests in flight
	// (one reaching a batch after this is refused as the server shuts down).
	srv.Close()
	return hs.Shutdown(ctx)
}

// siteAndAPI serves the API's paths with the API and everything else with
// the public web pages, which read the API in process.
func siteAndAPI(api http.Handler, site web.Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/metrics", api)
	mux.Handle("/healthz", api)
	mux.Handle("/", web.New(api, site))
	return mux
}

// loadOrMakeBoardKey reads the board's Ed25519 key, making it if missing.
func loadOrMakeBoardKey(name string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		if err := writePrivate(name, []byte(boardKeyPrefix+base64.RawURLEncoding.EncodeToString(seed)+"\n")); err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, err
	}
	text, ok := strings.CutPrefix(strings.TrimSpace(string(data)), boardKeyPrefix)
	seed, err := base64.RawURLEncoding.DecodeString(text)
	if !ok || err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s is not a koe board key (%s…)", name, boardKeyPrefix)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// adminToken finds the administrator's token, making one if there is none.
// It returns where a new token was written.
func adminToken(file, data string) (string, string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", err
		}
		t := strings.TrimSpace(string(b))
		if len(t) < 16 {
			return "", "", fmt.Errorf("%s: the administrator's token must have at least 16 characters", file)
		}
		return t, "", nil
	}
	if t := os.Getenv("KOE_ADMIN_TOKEN"); t != "" {
		return t, "", nil
	}
	name := filepath.Join(data, "admin-token")
	if b, err := os.ReadFile(name); err == nil {
		return strings.TrimSpace(string(b)), name, nil
	}
	b := make([]byte, 24)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	if err := writePrivate(name, []byte(t+"\n")); err != nil {
		return "", "", err
	}
	return t, name, nil
}
