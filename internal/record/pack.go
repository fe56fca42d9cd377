package record

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"path"
	"sort"
	"time"
)

// Pack writes files (paths with '/', as FromBoard gives them) as a
// gzipped tar archive of one directory named top, the form Unpack reads
// and GET /record serves (SPEC.md §10): the directories first as they are
// needed, the files in sorted order, modes 0755 and 0644, every time
// modTime.
func Pack(w io.Writer, top string, files map[string][]byte, modTime time.Time) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755, ModTime: modTime}); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, n := range names {
		var parents []string
		for d := path.Dir(n); d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/" + d + "/", Mode: 0o755, ModTime: modTime}); err != nil {
					return err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + n, Mode: 0o644, Size: int64(len(files[n])), ModTime: modTime}); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
