package board_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/board"
)

func Example() {
	ctx := context.Background()
	origin := board.Origin("vote.example.org", "e1")
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)

	l := board.New(newMemStore(), "e1", origin, signer) // a store.Store in real use
	i, _ := l.Append(ctx, board.Entry{
		Type:     board.TypeBallot,
		Election: "e1",
		Time:     time.Date(2026, 11, 23, 10, 57, 0, 0, time.UTC),
		Body:     json.RawMessage(`{"ballot":"…"}`),
	})
	r, _ := l.MakeReceipt(ctx, i, [32]byte{})
	entry, _ := board.Entry{Type: board.TypeBallot, Election: "e1",
		Time: time.Date(2026, 11, 23, 10, 57, 0, 0, time.UTC), Body: json.RawMessage(`{"ballot":"…"}`)}.Encode()
	fmt.Printf("%s\n", entry)
	fmt.Println(board.VerifyReceipt(r, entry, verifier))
	cp, _ := l.Checkpoint(ctx)
	fmt.Printf("%s", cp.Note[:len(origin)+3])
	// Output:
	// {"type":"ballot","election":"e1","time":"2026-11-23T10:57:00Z","body":{"ballot":"…"}}
	// <nil>
	// vote.example.org/koe/e1
	// 1
}
