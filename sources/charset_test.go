package sources

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestToUTF8(t *testing.T) {
	latin1 := func(s string) []byte {
		b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cp1251 := func(s string) []byte {
		b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utf16le := func(s string) []byte {
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        string
	}{
		{
			name:        "HTTP charset converts a body without declaration",
			body:        latin1("<rss><title>Genève</title></rss>"),
			contentType: "application/rss+xml; charset=ISO-8859-1",
			want:        "<rss><title>Genève</title></rss>",
		},
		{
			name:        "HTTP charset overrides the XML declaration, which is rewritten",
			body:        cp1251(`<?xml version="1.0" encoding="iso-8859-1"?><rss><title>Новости</title></rss>`),
			contentType: "text/xml; charset=windows-1251",
			want:        `<?xml version="1.0" encoding="utf-8"?><rss><title>Новости</title></rss>`,
		},
		{
			name:        "lenient charset parameter spelling",
			body:        latin1("<rss><title>Zürich</title></rss>"),
			contentType: `text/xml;Charset = "latin1"`,
			want:        "<rss><title>Zürich</title></rss>",
		},
		{
			name: "XML declaration alone decides without HTTP charset",
			body: latin1(`<?xml version='1.0' encoding='ISO-8859-1'?><rss><title>São Paulo</title></rss>`),
			want: `<?xml version='1.0' encoding="utf-8"?><rss><title>São Paulo</title></rss>`,
		},
		{
			name:        "valid UTF-8 mislabelled as Latin-1 stays UTF-8",
			body:        []byte(`<?xml version="1.0" encoding="utf-8"?><rss><title>Ürümqi</title></rss>`),
			contentType: "text/xml; charset=ISO-8859-1",
			want:        `<?xml version="1.0" encoding="utf-8"?><rss><title>Ürümqi</title></rss>`,
		},
		{
			name:        "HTTP UTF-8 but invalid bytes: the declaration's encoding is used",
			body:        latin1(`<?xml version="1.0" encoding="iso-8859-1"?><rss><title>Genève</title></rss>`),
			contentType: "text/xml; charset=utf-8",
			want:        `<?xml version="1.0" encoding="utf-8"?><rss><title>Genève</title></rss>`,
		},
		{
			name: "UTF-8 BOM stripped and wins over a contrary HTTP charset",
			body: append([]byte{0xEF, 0xBB, 0xBF}, "<rss><title>Zoë</title></rss>"...),
			// With the BOM the body is UTF-8 whatever the header says.
			contentType: "text/xml; charset=windows-1251",
			want:        "<rss><title>Zoë</title></rss>",
		},
		{
			name: "UTF-16LE with BOM decoded and its declaration rewritten",
			body: utf16le(`<?xml version="1.0" encoding="UTF-16"?><rss><title>維吾爾</title></rss>`),
			want: `<?xml version="1.0" encoding="utf-8"?><rss><title>維吾爾</title></rss>`,
		},
		{
			name:        "unknown labels are ignored",
			body:        []byte(`<?xml version="1.0" encoding="x-no-such-charset"?><rss/>`),
			contentType: "text/xml; charset=bogus",
			want:        `<?xml version="1.0" encoding="utf-8"?><rss/>`,
		},
		{
			name: "undeclared invalid bytes are read as windows-1252",
			body: []byte("<rss><title>caf\xe9 \x93quoted\x94</title></rss>"),
			want: "<rss><title>café “quoted”</title></rss>",
		},
		{
			name: "undeclared UTF-8 with stray windows-1252 bytes keeps its UTF-8",
			body: []byte("<?xml version=\"1.0\"?><rss><title>Zoë\x92s caf\xe9</title></rss>"),
			want: "<?xml version=\"1.0\"?><rss><title>Zoë’s café</title></rss>",
		},
		{
			name:        "declared UTF-8 with invalid bytes is repaired, not reinterpreted",
			body:        []byte("<rss><title>caf\xe9</title></rss>"),
			contentType: "text/xml; charset=utf-8",
			want:        "<rss><title>caf\uFFFD</title></rss>",
		},
		{
			name: "characters illegal in XML are removed",
			body: []byte("<rss><title>a\x00b\x01c\x0bd\x1fe\tf\uFFFEg\uFFFFh\uFFFDi</title></rss>"),
			want: "<rss><title>abcde\tfgh\uFFFDi</title></rss>",
		},
		{
			name: "whitespace before the declaration is dropped",
			body: []byte("\n  <?xml version=\"1.0\"?><rss/>"),
			want: "<?xml version=\"1.0\"?><rss/>",
		},
		{
			name:        "JSON with an HTTP charset is converted too",
			body:        latin1(`{"title":"Café"}`),
			contentType: "application/feed+json; charset=iso-8859-1",
			want:        `{"title":"Café"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toUTF8(tt.body, tt.contentType)
			if string(got) != tt.want {
				t.Errorf("toUTF8 = %q\nwant    %q", got, tt.want)
			}
			if !utf8.Valid(got) {
				t.Errorf("toUTF8 returned invalid UTF-8")
			}
		})
	}
}

func TestCharsetParam(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"text/xml":                         "",
		"text/xml; charset=utf-8":          "utf-8",
		"text/xml;charset = us-ascii":      "us-ascii",
		`text/xml; foo=bar; charset="gbk"`: "gbk",
		"text/xml; charset='big5'":         "big5",
		"text/xml; charsetx=big5":          "",
	} {
		if got := charsetParam(in); got != want {
			t.Errorf("charsetParam(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseUndeclaredLatin1IsReadAsWindows1252(t *testing.T) {
	// latin1.xml declares no encoding (neither in HTTP nor in its XML
	// declaration) and is not UTF-8: it is read as windows-1252.
	body := readFixture(t, "latin1.xml")
	if utf8.Valid(body) {
		t.Fatal("fixture latin1.xml must not be valid UTF-8")
	}
	_, items, err := Parse(body, "", "jm", fixedNow)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	if want := "Répression au Xinjiang : le rapport de l'ONU dénonce des violations graves"; items[0].Title != want {
		t.Errorf("title %q, want %q", items[0].Title, want)
	}
	if !bytes.Equal(body, readFixture(t, "latin1.xml")) {
		t.Error("Parse modified its input")
	}
}

func TestDecodePage(t *testing.T) {
	latin1 := []byte("<html><head><meta charset=\"iso-8859-1\"></head><body>Caf\xe9 in G\xe9n\xe8ve</body></html>")
	if got := string(DecodePage(latin1, "text/html")); !strings.Contains(got, "Café in Génève") {
		t.Errorf("meta charset ignored: %q", got)
	}
	if got := string(DecodePage([]byte("Caf\xe9"), "text/plain; charset=windows-1252")); got != "Café" {
		t.Errorf("HTTP charset ignored: %q", got)
	}
	if got := string(DecodePage([]byte("\xef\xbb\xbfUyghur \xff"), "")); got != "Uyghur \uFFFD" {
		t.Errorf("BOM or repair wrong: %q", got)
	}
}
