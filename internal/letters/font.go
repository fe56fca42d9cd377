package letters

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Font is a TrueType font (glyf outlines) that the letters embed: only
// the glyphs a document uses go into it (a subset), so a PDF of a
// Japanese font's few hundred glyphs is tens of kilobytes, not megabytes.
type Font struct {
	data  []byte
	path  string
	glyph func(rune) int // the cmap: a character's glyph, 0 if none
}

// DefaultFonts are where Debian's Japanese TrueType fonts are installed,
// tried in order when no font is named: IPAex Gothic (fonts-ipaexfont-gothic,
// which scripts/fonts installs) and the fonts-japanese-gothic alternative.
var DefaultFonts = []string{
	"/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
	"/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
}

// ErrNoFont is returned when no font was named and none of DefaultFonts is
// installed.
var ErrNoFont = errors.New("no Japanese TrueType font for the letters")

// FontHint says how to get a font, for an error's hint.
const FontHint = "install Debian's fonts-ipaexfont-gothic (scripts/fonts does), or name a TrueType font (.ttf with glyf outlines) with --letter-font FILE or $KOE_LETTER_FONT"

// FindFont returns the font file to use: path if it is not empty, or else
// the first of DefaultFonts that exists. It does not read the file.
func FindFont(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	for _, p := range DefaultFonts {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", ErrNoFont
}

// LoadFont reads and checks a font file (see ParseFont).
func LoadFont(path string) (*Font, error) {
	path, err := FindFont(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the letters' font: %w", err)
	}
	f, err := ParseFont(data)
	if err != nil {
		return nil, fmt.Errorf("the letters' font %s: %w", path, err)
	}
	f.path = path
	return f, nil
}

// Path is the file the font was read from ("" if from bytes).
func (f *Font) Path() string { return f.path }

// maxFont bounds a font file (IPAex Gothic is 4 MB, the largest CJK
// TrueType fonts about 30 MB).
const maxFont = 64 << 20

// ParseFont checks that data is a TrueType font the PDF writer can embed
// and subset: an sfnt with TrueType outlines (not CFF, "OTTO", nor a
// collection, "ttcf"), whose table directory lies inside the file and has
// every table the subsetter reads, with a Unicode cmap mapping the
// characters every letter has (kana, kanji, Latin letters and digits).
// The writer's own parser is not strict, so nothing reaches it unchecked.
func ParseFont(data []byte) (*Font, error) {
	if len(data) > maxFont {
		return nil, fmt.Errorf("%d bytes, more than the %d a font may have", len(data), maxFont)
	}
	if len(data) < 12 {
		return nil, errors.New("not a font: too short")
	}
	switch tag := string(data[:4]); tag {
	case "\x00\x01\x00\x00", "true":
	case "OTTO":
		return nil, errors.New("an OpenType font with CFF outlines (such as Noto CJK); the letters need TrueType (glyf) outlines, such as IPAex Gothic")
	case "ttcf":
		return nil, errors.New("a font collection (.ttc); the letters need a single TrueType font (.ttf), such as IPAex Gothic")
	default:
		return nil, fmt.Errorf("not a TrueType font (it begins %q)", tag)
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if n == 0 || 12+16*n > len(data) {
		return nil, errors.New("the font's table directory is cut short")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off, length := uint64(binary.BigEndian.Uint32(rec[8:])), uint64(binary.BigEndian.Uint32(rec[12:]))
		if off+length > uint64(len(data)) {
			return nil, fmt.Errorf("the font's %q table lies outside the file", tag)
		}
		if _, dup := tables[tag]; dup {
			return nil, fmt.Errorf("the font has two %q tables", tag)
		}
		tables[tag] = data[off : off+length]
	}
	for _, tag := range []string{"head", "hhea", "hmtx", "maxp", "cmap", "glyf", "loca", "post", "name", "OS/2"} {
		if _, ok := tables[tag]; !ok {
			return nil, fmt.Errorf("the font has no %q table", tag)
		}
	}
	if h := tables["head"]; len(h) < 54 || binary.BigEndian.Uint32(h[12:]) != 0x5F0F3CF5 {
		return nil, errors.New("the font's head table is malformed")
	}
	if len(tables["hhea"]) < 36 || len(tables["maxp"]) < 6 || len(tables["post"]) < 32 || len(tables["OS/2"]) < 78 {
		return nil, errors.New("the font's hhea, maxp, post or OS/2 table is cut short")
	}
	numGlyphs := int(binary.BigEndian.Uint16(tables["maxp"][4:]))
	locaLong := binary.BigEndian.Uint16(tables["head"][50:]) == 1
	entry := 2
	if locaLong {
		entry = 4
	}
	if len(tables["loca"]) < entry*(numGlyphs+1) {
		return nil, errors.New("the font's loca table is shorter than its glyphs")
	}
	numMetrics := int(binary.BigEndian.Uint16(tables["hhea"][34:]))
	if numMetrics == 0 || numMetrics > numGlyphs || len(tables["hmtx"]) < 4*numMetrics+2*(numGlyphs-numMetrics) {
		return nil, errors.New("the font's hmtx table does not match its glyphs")
	}
	cmap, err := unicodeCmap(tables["cmap"])
	if err != nil {
		return nil, err
	}
	for _, r := range "あア投票選挙人番号AZaz09-:/" {
		if g := cmap(r); g == 0 || g >= numGlyphs {
			return nil, fmt.Errorf("the font has no glyph for %q: it is not a Japanese font", r)
		}
	}
	return &Font{data: data, glyph: cmap}, nil
}

// Has reports whether the font has a glyph for r. The PDF writer reads
// only the Basic Multilingual Plane, so a character beyond it (𠮷, an
// emoji) is one the letters cannot print.
func (f *Font) Has(r rune) bool { return r <= 0xFFFF && f.glyph(r) != 0 }

// unicodeCmap finds the font's Unicode BMP subtable (platform 3 encoding
// 1, or platform 0, format 4: the one the subsetter reads) and returns its
// lookup.
func unicodeCmap(t []byte) (func(rune) int, error) {
	if len(t) < 4 {
		return nil, errors.New("the font's cmap table is cut short")
	}
	n := int(binary.BigEndian.Uint16(t[2:]))
	if 4+8*n > len(t) {
		return nil, errors.New("the font's cmap table is cut short")
	}
	for i := range n {
		rec := t[4+8*i:]
		platform, enc := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if !(platform == 3 && enc == 1 || platform == 0) || off < 0 || off+4 > len(t) || binary.BigEndian.Uint16(t[off:]) != 4 {
			continue
		}
		return format4(t[off:])
	}
	return nil, errors.New("the font has no Unicode (format 4) cmap")
}

// format4 reads a cmap format 4 subtable (TrueType reference manual, the
// 'cmap' table): segments of characters, each mapped by a delta or
// through the glyph id array.
func format4(t []byte) (func(rune) int, error) {
	if len(t) < 14 {
		return nil, errors.New("the font's cmap subtable is cut short")
	}
	length := int(binary.BigEndian.Uint16(t[2:]))
	if length > len(t) || length < 14 {
		// Some fonts' length overflows 16 bits; read what is there.
		length = len(t)
	}
	t = t[:length]
	segs := int(binary.BigEndian.Uint16(t[6:])) / 2
	if segs == 0 || 16+8*segs > len(t) {
		return nil, errors.New("the font's cmap subtable is cut short")
	}
	ends, starts := t[14:], t[16+2*segs:]
	deltas, ranges := t[16+4*segs:], t[16+6*segs:]
	u16 := func(b []byte, i int) int { return int(binary.BigEndian.Uint16(b[2*i:])) }
	return func(r rune) int {
		if r > 0xFFFF {
			return 0
		}
		c := int(r)
		for i := range segs {
			if c > u16(ends, i) {
				continue
			}
			if c < u16(starts, i) {
				return 0
			}
			ro := u16(ranges, i)
			if ro == 0 {
				return (c + u16(deltas, i)) & 0xFFFF
			}
			at := 16 + 6*segs + 2*i + ro + 2*(c-u16(starts, i))
			if at+2 > len(t) {
				return 0
			}
			g := int(binary.BigEndian.Uint16(t[at:]))
			if g == 0 {
				return 0
			}
			return (g + u16(deltas, i)) & 0xFFFF
		}
		return 0
	}, nil
}
