// Package scripts holds koe's shell scripts (test, serve, postgres,
// browser); this file tests what they share (lib.sh).
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeApt puts an apt-get first on PATH that prints out and exits with
// code, and counts its runs in dir/runs.
func fakeApt(t *testing.T, out string, code int) (env []string, runs func() int) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho x >> " + filepath.Join(dir, "runs") + "\necho '" + out + "'\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "apt-get"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// as_root uses sudo when not root; a fake sudo runs the command.
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte("#!/bin/sh\n[ \"$1\" = -n ] && shift\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	return env, func() int {
		data, _ := os.ReadFile(filepath.Join(dir, "runs"))
		return strings.Count(string(data), "x")
	}
}

func aptGet(t *testing.T, env []string, args string) (string, error) {
	cmd := exec.Command("bash", "-c", "NAME=test; . ./lib.sh; apt_get "+args)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAptGetWaitsForTheLock: apt's lock held by another package manager
// is waited for, up to KOE_APT_WAIT seconds, and then the script stops
// with a message saying so (scripts/test must not go on to run the
// browser tests without Chromium).
func TestAptGetWaitsForTheLock(t *testing.T) {
	env, runs := fakeApt(t, "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (unattended-upgr)", 100)
	env = append(env, "KOE_APT_WAIT=2", "KOE_APT_RETRY=1")
	start := time.Now()
	out, err := aptGet(t, env, "install chromium")
	if err == nil {
		t.Fatalf("apt_get succeeded with the lock held:\n%s", out)
	}
	if !strings.Contains(out, "another package manager has held apt's lock for 2 s") || !strings.Contains(out, "waiting up to 2 s") {
		t.Errorf("the message does not say apt's lock was held:\n%s", out)
	}
	if n := runs(); n < 2 {
		t.Errorf("apt-get ran %d times: it was not retried while the lock was held", n)
	}
	if time.Since(start) > time.Minute {
		t.Errorf("apt_get waited %v, past its wait", time.Since(start))
	}
}

// TestAptGetOtherFailure: any other failure stops at once, with apt-get's
// own output; success is quiet.
func TestAptGetOtherFailure(t *testing.T) {
	env, runs := fakeApt(t, "E: Unable to locate package chromium", 100)
	out, err := aptGet(t, env, "install chromium")
	if err == nil || !strings.Contains(out, "Unable to locate package chromium") || runs() != 1 {
		t.Errorf("a missing package: err %v, %d runs, output:\n%s", err, runs(), out)
	}
	env, runs = fakeApt(t, "Setting up chromium", 0)
	if out, err := aptGet(t, env, "install chromium"); err != nil || out != "" || runs() != 1 {
		t.Errorf("a success: err %v, %d runs, output %q", err, runs(), out)
	}
}
