package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"wirewatch/sources"
)

// cmdSourcesImport turns an OPML subscription list (from Feedly, Inoreader,
// Miniflux, NetNewsWire …) into source entries: printed to paste into the
// config, or with --write added to it. Feeds the config already has (by
// URL) are skipped; ids come from the feed titles and never clash.
func cmdSourcesImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sources import", `Read an OPML file and print a sources: entry for each feed not in the config yet.
With --write, add them to the config file instead (checked first; the old file is kept as FILE.bak).

  wirewatch sources import --config F subscriptions.opml
  wirewatch sources import --config F --write subscriptions.opml`, stderr)
	path := configFlag(fs)
	write := fs.Bool("write", false, "add the sources to the config file")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{fmt.Errorf("sources import: name one OPML file")}
	}
	cfg, err := LoadConfig(*path, os.LookupEnv)
	if err != nil {
		return err
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	feeds, err := sources.ParseOPML(f)
	if err != nil {
		return fmt.Errorf("sources import: %s: %w", files[0], err)
	}
	taken := map[string]bool{}
	known := map[string]bool{}
	for _, s := range cfg.Sources {
		taken[s.Source.ID] = true
		known[s.Source.URL] = true
	}
	var add []importedSource
	skipped := 0
	for _, o := range feeds {
		if known[o.XMLURL] {
			skipped++
			continue
		}
		known[o.XMLURL] = true
		id := uniqueID(sourceSlug(o), taken)
		taken[id] = true
		add = append(add, importedSource{ID: id, URL: o.XMLURL, Title: strings.TrimSpace(firstNonEmpty(o.Title, o.Text))})
	}
	fmt.Fprintf(stderr, "%d feeds in %s: %d new, %d already in the config\n", len(feeds), files[0], len(add), skipped)
	if len(add) == 0 {
		return nil
	}
	if !*write {
		out, err := yaml.Marshal(map[string][]importedSource{"sources": add})
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	return appendSources(cfg.Path, add, stdout)
}

// importedSource is a source entry as written to the config.
type importedSource struct {
	ID    string `yaml:"id"`
	URL   string `yaml:"url"`
	Title string `yaml:"title,omitempty"`
}

// appendSources adds entries to the config's sources list through the YAML
// tree (comments and the rest of the file are kept), checks that the result
// is a valid config, keeps the old file as .bak and writes the new one.
func appendSources(path string, add []importedSource, stdout io.Writer) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("sources import: %s is not a YAML mapping: %v", path, err)
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sources" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "sources"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("sources import: %s: sources is not a list", path)
	}
	for _, s := range add {
		var n yaml.Node
		if err := n.Encode(s); err != nil {
			return err
		}
		list.Content = append(list.Content, &n)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if _, err := ParseConfig(path, buf.Bytes(), os.LookupEnv); err != nil {
		return fmt.Errorf("sources import: the config would not be valid, nothing written: %w", err)
	}
	if err := os.WriteFile(path+".bak", old, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %d sources to %s (the old file is %s.bak)\n", len(add), path, path)
	return nil
}

// cmdSourcesExport writes the configured sources as OPML 2.0, for another
// reader or a colleague's wirewatch.
func cmdSourcesExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sources export", "Write the configured sources as an OPML 2.0 subscription list.\n\n  wirewatch sources export --config F > subscriptions.opml", stderr)
	path := configFlag(fs)
	title := fs.String("title", "wirewatch sources", "the OPML document's title")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, os.LookupEnv)
	if err != nil {
		return err
	}
	out := make([]sources.OPMLSource, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		out = append(out, sources.OPMLSource{XMLURL: s.Source.URL, Title: firstNonEmpty(s.Source.Title, s.Source.ID), Text: s.Source.ID})
	}
	return sources.WriteOPML(stdout, *title, out)
}

// sourceSlug makes a source id from a feed's title (else its host).
func sourceSlug(o sources.OPMLSource) string {
	name := firstNonEmpty(o.Title, o.Text)
	if name == "" {
		if u, err := url.Parse(o.XMLURL); err == nil {
			name = strings.TrimPrefix(u.Hostname(), "www.")
		}
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "source"
	}
	return s
}

// uniqueID returns base, or base-2, base-3 … whichever is not taken.
func uniqueID(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for i := 2; ; i++ {
		if id := fmt.Sprintf("%s-%d", base, i); !taken[id] {
			return id
		}
	}
}
