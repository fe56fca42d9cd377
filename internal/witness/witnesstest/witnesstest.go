// Package witnesstest runs real, off-the-shelf witnesses for koe's tests:
// the omniwitness of github.com/transparency-dev/witness, at the version
// that tools/omniwitness/go.mod pins (a module of its own, so that the
// witness's dependencies stay out of koe's go.mod). Each instance listens
// on loopback at a random port with a fresh key and a SQLite database in a
// temporary directory, configured to witness the board origins it is
// given; several instances stand for the organisations of a witness
// policy (SPEC.md §13.7). Nothing here implements a witness.
package witnesstest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/witness"
)

// Package is the omniwitness command's import path.
const Package = "github.com/transparency-dev/witness/cmd/omniwitness"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// moduleDir is tools/omniwitness of this source tree.
func moduleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "tools", "omniwitness")
}

// Binary builds the omniwitness once per test process (the Go build cache
// makes later builds quick) and returns its path. Its modules come from
// the module cache or the proxy, as tools/omniwitness/go.sum pins them.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir := moduleDir()
		sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
		if err != nil {
			buildErr = err
			return
		}
		h := sha256.Sum256(sum)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		out := filepath.Join(cache, "koe-omniwitness", hex.EncodeToString(h[:8]))
		binPath = filepath.Join(out, "omniwitness")
		if _, err := os.Stat(binPath); err == nil {
			return
		}
		if buildErr = os.MkdirAll(out, 0o755); buildErr != nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d", binPath, os.Getpid())
		cmd := exec.Command("go", "-C", dir, "build", "-o", tmp, Package)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the omniwitness: %v\n%s", err, b)
			return
		}
		buildErr = os.Rename(tmp, binPath) // atomic: parallel test processes may race
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Log is a board the witnesses accept: its checkpoint origin and the
// board's note verifier key text (SPEC.md §13.3).
type Log struct {
	Origin string
	Key    string
}

// Witness is one running omniwitness.
type Witness struct {
	Name string       // the witness's key name
	Key  *witness.Key // its cosignature/v1 verifier key
	URL  string       // its submission prefix, http://127.0.0.1:PORT

	t    testing.TB
	dir  string
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs an omniwitness named name that witnesses logs, and stops it
// when the test ends.
func Start(t testing.TB, name string, logs ...Log) *Witness {
	t.Helper()
	Binary(t)
	dir := t.TempDir()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ed25519Public(vkey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := witness.NewKey(v.Name(), pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), []byte(skey), 0o600); err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	y.WriteString("Logs:\n")
	for _, l := range logs {
		fmt.Fprintf(&y, "  - Origin: %q\n    URL: %q\n    PublicKey: %q\n    Feeder: none\n", l.Origin, "http://"+l.Origin, l.Key)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs.yaml"), []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Witness{Name: name, Key: key, t: t, dir: dir}
	for try := 0; ; try++ {
		w.addr = freeAddr(t)
		w.URL = "http://" + w.addr
		if err := w.start(); err == nil {
			break
		} else if try == 4 {
			t.Fatalf("omniwitness %s: %v", name, err)
		}
	}
	t.Cleanup(w.Stop)
	return w
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the process and waits until it accepts connections.
func (w *Witness) start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(w.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(binPath,
		"--listen", w.addr,
		"--metrics_listen", "",
		"--private_key_path", filepath.Join(w.dir, "key"),
		"--db_file", filepath.Join(w.dir, "witness.db"),
		"--additional_logs", filepath.Join(w.dir, "logs.yaml"),
		"--logtostderr")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", w.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			w.cmd, w.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("exited at start:\n%s", w.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("not listening after 20 s:\n%s", w.Log())
		}
	}
}

// Stop ends the witness (its database stays for Restart).
func (w *Witness) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Kill()
	<-w.done
	w.cmd = nil
}

// Restart starts a stopped witness again on the same address, with the
// same key and database: it remembers what it cosigned.
func (w *Witness) Restart() {
	w.t.Helper()
	if err := w.start(); err != nil {
		w.t.Fatalf("omniwitness %s: restart: %v", w.Name, err)
	}
}

// Log returns what the witness printed.
func (w *Witness) Log() string {
	b, _ := os.ReadFile(filepath.Join(w.dir, "log"))
	return string(b)
}

// Peer returns a witness.Peer that submits to this witness.
func (w *Witness) Peer() *witness.Peer {
	return &witness.Peer{Name: w.Name, Key: w.Key, Client: &witness.Client{URL: w.URL}}
}

// ed25519Public extracts the public key of an Ed25519 note verifier key.
func ed25519Public(vkey string) ([]byte, error) {
	_, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+") // the base64 part may hold "+"
	b, err := decodeB64(key64)
	if err != nil || len(b) != 33 || b[0] != 1 {
		return nil, fmt.Errorf("witnesstest: %q is not an Ed25519 verifier key", vkey)
	}
	return bytes.Clone(b[1:]), nil
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
