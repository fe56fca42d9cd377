package board_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/group"
)

func Example() {
	ctx := context.Background()
	origin := board.Origin("vote.example.org", "e1")
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)

	l := board.New(newMemStore(), "e1", origin, signer) // a store.Board in real use
	// A cast envelope (SPEC.md §15.4); here with a stand-in ballot "koe1".
	body := json.RawMessage(`{"ballot":"a29lMQ==","credential":"","salt":"","counter":1,"signature":""}`)
	i, _ := l.Append(ctx, board.Entry{
		Type:     board.TypeBallot,
		Election: "e1",
		Time:     time.Date(2026, 11, 23, 10, 57, 0, 0, time.UTC),
		Body:     body,
	})
	tracking := group.NewDigest("koe/v2/tracking").Bytes("ballot", []byte("koe1")).Digest32()
	r, _ := l.MakeReceipt(ctx, i, tracking)
	entry, _ := board.Entry{Type: board.TypeBallot, Election: "e1",
		Time: time.Date(2026, 11, 23, 10, 57, 0, 0, time.UTC), Body: body}.Encode()
	fmt.Printf("%s\n", entry)
	fmt.Println(board.VerifyReceipt(r, entry, verifier))
	cp, _ := l.Checkpoint(ctx)
	fmt.Printf("%s", cp.Note[:len(origin)+3])
	// Output:
	// {"type":"ballot","election":"e1","time":"2026-11-23T10:57:00Z","body":{"ballot":"a29lMQ==","credential":"","salt":"","counter":1,"signature":""}}
	// <nil>
	// vote.example.org/koe/e1
	// 1
}
