// Package omniwitness runs the off-the-shelf witness of
// github.com/transparency-dev/witness (its omniwitness command, at the
// version tools/omniwitness/go.mod pins) on loopback, for `koe bench cast
// --witnesses N`: it builds the command from this source tree's
// tools/omniwitness module and starts instances with fresh keys, each
// witnessing the board origins it is given. Nothing here implements a
// witness. (internal/witness/witnesstest wraps it for tests.)
package omniwitness

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/witness"
)

// Package is the omniwitness command's import path.
const Package = "github.com/transparency-dev/witness/cmd/omniwitness"

// ModuleDir finds tools/omniwitness of koe's source tree from the current
// directory or one above it (the README runs koe with `go run ./cmd/koe`
// from the tree's root).
func ModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		gm, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(gm, []byte("module github.com/koe-vote/koe\n")) {
			return filepath.Join(dir, "tools", "omniwitness"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("omniwitness: not inside koe's source tree (no tools/omniwitness found); run from the tree or give the omniwitness binary")
		}
		dir = up
	}
}

// Build builds the omniwitness of the module in dir into the user's cache
// (keyed by its go.sum, so a pinned version is built once) and returns the
// binary's path. Its modules come from the module cache or the Go proxy.
func Build(dir string) (string, error) {
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("omniwitness: %w", err)
	}
	h := sha256.Sum256(sum)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "koe-omniwitness", hex.EncodeToString(h[:8]))
	bin := filepath.Join(out, "omniwitness")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
	if b, err := exec.Command("go", "-C", dir, "build", "-o", tmp, Package).CombinedOutput(); err != nil {
		return "", fmt.Errorf("omniwitness: building %s: %v\n%s", Package, err, b)
	}
	return bin, os.Rename(tmp, bin) // atomic: several processes may build at once
}

// Log is a board a witness accepts: its checkpoint origin and the board's
// note verifier key text (SPEC.md §13.3).
type Log struct {
	Origin string
	Key    string
}

// Witness is one running omniwitness.
type Witness struct {
	Name string       // its key name
	Key  *witness.Key // its cosignature/v1 verifier key
	URL  string       // its submission prefix, http://127.0.0.1:PORT

	bin  string
	dir  string
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs the omniwitness binary bin as name, with a fresh key and a
// SQLite database in dir, witnessing logs, on a free loopback port.
func Start(bin, dir, name string, logs ...Log) (*Witness, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, err
	}
	_, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+") // the base64 part may hold "+"
	raw, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return nil, fmt.Errorf("omniwitness: %q is not an Ed25519 verifier key", vkey)
	}
	key, err := witness.NewKey(name, raw[1:])
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), []byte(skey), 0o600); err != nil {
		return nil, err
	}
	var y strings.Builder
	y.WriteString("Logs:\n")
	for _, l := range logs {
		fmt.Fprintf(&y, "  - Origin: %q\n    URL: %q\n    PublicKey: %q\n    Feeder: none\n", l.Origin, "http://"+l.Origin, l.Key)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs.yaml"), []byte(y.String()), 0o644); err != nil {
		return nil, err
	}
	w := &Witness{Name: name, Key: key, bin: bin, dir: dir}
	for try := 0; ; try++ {
		if w.addr, err = freeAddr(); err != nil {
			return nil, err
		}
		w.URL = "http://" + w.addr
		if err = w.start(); err == nil {
			return w, nil
		}
		if try == 4 {
			return nil, fmt.Errorf("omniwitness %s: %v", name, err)
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs the process and waits until it accepts connections.
func (w *Witness) start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(w.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(w.bin, "--listen", w.addr, "--metrics_listen", "",
		"--private_key_path", filepath.Join(w.dir, "key"), "--db_file", filepath.Join(w.dir, "witness.db"),
		"--additional_logs", filepath.Join(w.dir, "logs.yaml"), "--logtostderr")
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

// Stop ends the witness (its key and database stay for Restart).
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
func (w *Witness) Restart() error {
	if err := w.start(); err != nil {
		return fmt.Errorf("omniwitness %s: restart: %v", w.Name, err)
	}
	return nil
}

// Log returns what the witness printed.
func (w *Witness) Log() string {
	b, _ := os.ReadFile(filepath.Join(w.dir, "log"))
	return string(b)
}
