package main

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/linkage"
	"github.com/koe-vote/koe/internal/server"
)

// runBenchLinkage measures the timing attack of SPEC.md §15.5 in real
// time: voters who register and cast at once and voters who pause between
// the two, against a server appending entries one by one and against one
// with timed batches; an observer who knows when each voter registered
// links voters to ballots from the public board.
func runBenchLinkage(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe bench linkage", "koe bench linkage [--voters N] [--window D] [--pause D] [--register-interval D] [--cast-interval D] [--scale F]", stderr)
	n := fs.Int("voters", 40, "voters in each group: register and cast at once; pause in between")
	window := fs.Duration("window", 2*time.Minute, "the voters start at random times within this window")
	pause := fs.Duration("pause", 20*time.Second, "the pausing voters wait a random time up to this between registering and casting")
	regInterval := fs.Duration("register-interval", server.DefaultRegisterInterval, "the batched server's --register-interval")
	castInterval := fs.Duration("cast-interval", server.DefaultCastInterval, "the batched server's --cast-interval")
	scale := fs.Float64("scale", 1, "multiply every duration above by this (0.1: ten times faster, same linkage)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 || *scale <= 0 || *window <= 0 || *pause <= 0 {
		return usagef("--voters, --window, --pause and --scale must be positive")
	}
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) * *scale) }
	fmt.Fprintf(stdout, "koe bench linkage: %d voters register and cast at once, %d pause up to %v, all starting within %v\n",
		*n, *n, sc(*pause), sc(*window))
	fmt.Fprintln(stdout, "The observer knows when each voter registered and reads the board; it links each new credential's first ballot")
	fmt.Fprintln(stdout, "to the latest registration before it, by board order (order) or by entry time (time).")
	for _, mode := range []struct {
		name      string
		reg, cast time.Duration
	}{
		{"appended one by one (--register-interval 0 --cast-interval 0)", 0, 0},
		{fmt.Sprintf("timed batches (--register-interval %v --cast-interval %v)", sc(*regInterval), sc(*castInterval)), sc(*regInterval), sc(*castInterval)},
	} {
		res, err := linkageRun(*n, sc(*window), sc(*pause), mode.reg, mode.cast, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s\n", mode.name)
		for _, name := range []string{"order", "time"} {
			fmt.Fprintf(stdout, "  %-6s at-once voters linked %2d/%d, paused voters linked %2d/%d\n", name, res.atOnce[name], *n, res.paused[name], *n)
		}
		fmt.Fprintf(stdout, "  chance (a guess among the first ballots with the same entry time): %.1f/%d at-once voters\n", res.chance, *n)
	}
	return nil
}

type linkageResult struct {
	atOnce, paused map[string]int
	chance         float64
}

func linkageRun(n int, window, pause, regInterval, castInterval time.Duration, stderr io.Writer) (*linkageResult, error) {
	ctx := context.Background()
	base, token, _, stop, err := startBenchServer(ctx, "", func(c *server.Config) {
		c.RegistrarBits, c.RegisterInterval, c.CastInterval = 2048, regInterval, castInterval
	})
	if err != nil {
		return nil, err
	}
	defer stop()
	admin := client.New(base, token)
	manifest, _ := examples.Manifest("referendum")
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return nil, err
	}
	id := created.ID
	if _, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens); err != nil {
		return nil, err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "L", 2*n)
	if err != nil {
		return nil, err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return nil, err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return nil, err
	}
	pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
	if err != nil {
		return nil, err
	}

	regs := make([]linkage.Registration, 2*n)
	truth := map[string]string{}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	p := newProgress(stderr, "voting", 2*n)
	count := 0
	began := time.Now()
	for i := range 2 * n {
		startAt := time.Duration(mrand.Int64N(int64(window)))
		var wait time.Duration
		if i >= n {
			wait = time.Duration(mrand.Int64N(int64(pause)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(began.Add(startAt)))
			vid := fmt.Sprintf("L%05d", i)
			at := time.Now()
			cred, err := voter.Register(ctx, el, vid, codes[vid])
			if err == nil {
				time.Sleep(wait)
				e, _, _, serr := client.Seal(el, cred, pt, 1)
				err = serr
				if err == nil {
					mu.Lock()
					truth[vid] = linkage.CredentialOf(e.Credential)
					mu.Unlock()
					_, err = voter.Cast(ctx, id, e)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			regs[i] = linkage.Registration{Voter: vid, Time: at, Issued: -1}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			count++
			p.set(count)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	var entries [][]byte
	for i := 0; ; i++ {
		raw, err := admin.Raw(ctx, "GET", api.ElectionPath(id, fmt.Sprintf("/entries/%d", i)), "", nil)
		if client.IsCode(err, api.CodeNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		entries = append(entries, raw)
	}
	b, err := linkage.Read(entries)
	if err != nil {
		return nil, err
	}
	var atOnce, paused []string
	for i, r := range regs {
		if i < n {
			atOnce = append(atOnce, r.Voter)
		} else {
			paused = append(paused, r.Voter)
		}
	}
	res := &linkageResult{atOnce: map[string]int{}, paused: map[string]int{}}
	for name, g := range map[string]linkage.Guess{"order": linkage.ByOrder(regs, b), "time": linkage.ByTime(regs, b)} {
		res.atOnce[name], res.paused[name] = linkage.Correct(g, truth, atOnce), linkage.Correct(g, truth, paused)
	}
	res.chance = linkage.Chance(b, truth, atOnce)
	return res, nil
}
