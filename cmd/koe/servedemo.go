package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// serveDemo sets up an election to try a new server with (koe serve
// --demo N): the citizen survey (or another example), its key ceremony run by trustees inside
// this process, a roll of n voters whose codes go to DATA/demo-codes.csv,
// opened. Once the election is tallied (from the console or koe admin),
// the trustees decrypt it by themselves, so that the administrator can
// publish; a survey with text or rank questions they mix first, each
// trustee a round in turn (SPEC.md §16.6). Trustees inside the server are for trying koe only: in a real
// election each keeps its own key on its own machine.
func serveDemo(ctx context.Context, base, token, dataDir, example string, n int, stdout io.Writer, log *slog.Logger) error {
	admin := client.New(base, token)
	var list []api.ElectionInfo
	if err := admin.Do(ctx, "GET", "/api/v1/elections", "", nil, &list); err != nil {
		return err
	}
	k := 1
	for _, e := range list {
		if strings.HasPrefix(e.ID, "kagaku-demo-") {
			k++
		}
	}
	id := fmt.Sprintf("kagaku-demo-%d", k)
	manifest, err := examples.Manifest(example)
	if err != nil {
		return err
	}
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return err
	}
	// Someone trying koe casts a ballot or two: the demo publishes results
	// of any number, where a real survey withholds those of fewer than ten.
	one := 1
	m.ID, m.Privacy = id, &one
	if manifest, err = json.MarshalIndent(m, "", "  "); err != nil {
		return err
	}
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return fmt.Errorf("demo: creating %s: %w", id, err)
	}
	trustees, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens)
	if err != nil {
		return fmt.Errorf("demo: the key ceremony: %w", err)
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "D", n)
	if err != nil {
		return fmt.Errorf("demo: the roll: %w", err)
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return fmt.Errorf("demo: opening: %w", err)
	}
	voters := make([]string, 0, len(codes))
	for v := range codes {
		voters = append(voters, v)
	}
	sort.Strings(voters)
	var csv strings.Builder
	csv.WriteString("voter_id,code\n")
	for _, v := range voters {
		fmt.Fprintf(&csv, "%s,%s\n", v, codes[v])
	}
	file := filepath.Join(dataDir, "demo-codes.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nDemo: the survey %s is open, with %d voters.\n", id, n)
	fmt.Fprintf(stdout, "  booth:   %s/elections/%s/vote\n", base, id)
	fmt.Fprintf(stdout, "  console: %s/admin\n", base)
	fmt.Fprintf(stdout, "  voters (voter number, code); all of them are in %s:\n", file)
	for _, v := range voters[:min(5, len(voters))] {
		fmt.Fprintf(stdout, "    %s  %s\n", v, codes[v])
	}
	fmt.Fprintf(stdout, "Its privacy threshold is 1, so that its results are published however few answer; a real survey withholds results of fewer than %d answers.\n", ballot.DefaultPrivacyThreshold)
	if len(m.Mixed()) > 0 {
		fmt.Fprintf(stdout, "Its %d trustees run inside this server (for trying koe only); once the survey is tallied, %d of them mix its free-text and ranking answers, one round each, decrypt it all, and you can publish.\n",
			len(trustees), m.Threshold)
	} else {
		fmt.Fprintf(stdout, "Its %d trustees run inside this server (for trying koe only); once the survey is tallied, %d of them decrypt it and you can publish.\n",
			len(trustees), m.Threshold)
	}
	// The trustees wait for the tally.
	go func() {
		which := make([]int, 0, m.Threshold)
		for j := 1; j <= m.Threshold; j++ {
			which = append(which, j)
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var in api.ElectionInfo
			if err := admin.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil || in.State != api.StateTallied {
				continue
			}
			if err := demo.ServerDecrypt(ctx, base, id, manifest, trustees, created.TrusteeTokens, which); err != nil {
				log.Error("demo: the trustees could not decrypt", "election", id, "err", err)
			} else {
				log.Info("demo: the trustees posted their decryptions; the results can be published", "election", id)
			}
			return
		}
	}()
	return nil
}
