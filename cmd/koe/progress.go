package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows how far a long step has come: a line redrawn in place on
// a terminal, or a line at every tenth otherwise (logs, CI).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	total int
	start time.Time
	last  time.Time
	tenth int
	quiet bool
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// set records that done of total items are finished.
func (p *progress) set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet || p.total == 0 {
		return
	}
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r  %-22s %s %7d/%d %5.1fs", p.label, bar(done, p.total, 24), done, p.total, now.Sub(p.start).Seconds())
		if done >= p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	tenth := done * 10 / p.total
	if tenth > p.tenth || done == p.total {
		for p.tenth < tenth {
			p.tenth++
		}
		fmt.Fprintf(p.w, "  %-22s %3d%% (%d/%d) %.1fs\n", p.label, done*100/p.total, done, p.total, now.Sub(p.start).Seconds())
		if done >= p.total {
			p.quiet = true
		}
	}
}

func bar(done, total, width int) string {
	n := done * width / total
	b := make([]rune, width)
	for i := range b {
		if i < n {
			b[i] = '█'
		} else {
			b[i] = '░'
		}
	}
	return string(b)
}

// startStep shows a long step that reports no progress of its own: its
// label at once, the seconds it has taken redrawn every second on a
// terminal, and its duration when the returned function is called.
func startStep(w io.Writer, label string) (done func()) {
	start := time.Now()
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	if tty {
		fmt.Fprintf(w, "  %s…", label)
		go func() {
			defer close(finished)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					fmt.Fprintf(w, "\r  %s… %.0fs", label, time.Since(start).Seconds())
				}
			}
		}()
	} else {
		fmt.Fprintf(w, "  %s…\n", label)
		close(finished)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-finished
			if tty {
				fmt.Fprintf(w, "\r  %s… done in %.1fs\n", label, time.Since(start).Seconds())
			} else {
				fmt.Fprintf(w, "  %s: done in %.1fs\n", label, time.Since(start).Seconds())
			}
		})
	}
}
