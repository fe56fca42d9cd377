package record

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Unpack unpacks a gzipped tar archive of one record directory into
// keep (or a new temporary directory), which it returns as the record.
// It refuses paths that leave the directory, links and oversize files.
func Unpack(r io.Reader, keep string) (string, error) {
	root := keep
	if root == "" {
		var err error
		if root, err = os.MkdirTemp("", "koe-record-"); err != nil {
			return "", err
		}
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return "", fmt.Errorf("not a gzipped record archive: %w", err)
	}
	tr := tar.NewReader(gz)
	top := ""
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("record archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		if !filepath.IsLocal(name) {
			return "", fmt.Errorf("record archive: unsafe path %q", hdr.Name)
		}
		first, _, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return "", fmt.Errorf("record archive: more than one top directory (%s, %s)", top, first)
		}
		_, rest, _ := strings.Cut(name, "/")
		dst := filepath.Join(root, filepath.FromSlash(rest))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			total += hdr.Size
			if hdr.Size > 4<<30 || total > 16<<30 {
				return "", errors.New("record archive: too large")
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return "", err
			}
			_, err = io.CopyN(f, tr, hdr.Size)
			f.Close()
			if err != nil {
				return "", err
			}
		default:
			return "", fmt.Errorf("record archive: %s is not a file or directory", hdr.Name)
		}
	}
	if top == "" {
		return "", errors.New("record archive: empty")
	}
	return root, nil
}
