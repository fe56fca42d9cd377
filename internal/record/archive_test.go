package record

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name, body string
	kind       byte
}

func archive(t testing.TB, members ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: m.kind}
		if m.kind == tar.TypeDir || m.kind == tar.TypeSymlink {
			hdr.Size = 0
			hdr.Linkname = m.body
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

func TestUnpack(t *testing.T) {
	good := archive(t,
		member{"rec/", "", tar.TypeDir},
		member{"rec/manifest.json", `{"spec":"koe/v2"}`, tar.TypeReg},
		member{"rec/ballots/", "", tar.TypeDir},
		member{"rec/ballots/ballots.bin", "koe1", tar.TypeReg})
	dir, err := Unpack(bytes.NewReader(good), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ballots", "ballots.bin")); err != nil || string(b) != "koe1" {
		t.Fatalf("unpacked %q, %v", b, err)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("rec/manifest.json"), "not a gzipped record archive"},
		{"empty", archive(t), "empty"},
		{"leaves the directory", archive(t, member{"rec/../../evil", "x", tar.TypeReg}), "unsafe path"},
		{"absolute", archive(t, member{"/etc/evil", "x", tar.TypeReg}), "unsafe path"},
		{"two tops", archive(t, member{"a/x", "1", tar.TypeReg}, member{"b/y", "2", tar.TypeReg}), "more than one top directory"},
		{"symlink", archive(t, member{"rec/link", "/etc/passwd", tar.TypeSymlink}), "not a file or directory"},
		{"twice", archive(t, member{"rec/x", "1", tar.TypeReg}, member{"rec/x", "2", tar.TypeReg}), "exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unpack(bytes.NewReader(tc.data), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// FuzzUnpack: any bytes unpack or fail, without panicking and without
// writing outside the directory.
func FuzzUnpack(f *testing.F) {
	f.Add(archive(f, member{"rec/manifest.json", "{}", tar.TypeReg}))
	f.Add(archive(f, member{"rec/../x", "{}", tar.TypeReg}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "in")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		Unpack(bytes.NewReader(data), dir)
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("unpacking wrote beside its directory: %v", entries)
		}
	})
}
