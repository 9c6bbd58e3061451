package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"wirewatch/match"
	"wirewatch/netguard"
	"wirewatch/sources"
	"wirewatch/terms"
)

// maxReport bounds a report read by `wirewatch terms`.
const maxReport = 32 << 20

// suggestFrom is how many ranked terms the suggested query draws on.
const suggestFrom = 25

func cmdTerms(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("terms", `Read a report (plain text, HTML, or a web page URL) and print its key terms, ranked,
with their variants, followed by a ready-to-paste topic block with a suggested
query. Paste the block under topics: in your config and edit it like any topic.

  wirewatch terms report.txt
  wirewatch terms https://www.ohchr.org/en/documents/country-reports/...`, stderr)
	n := fs.Int("n", 25, "how many terms to list")
	id := fs.String("id", "", "topic id for the block (default: from the title or file name)")
	title := fs.String("title", "", "topic title for the block (default: the document's title)")
	asJSON := fs.Bool("json", false, "print the terms and the suggested query as JSON")
	allowPrivate := fs.Bool("allow-private-networks", false, "allow a URL on a loopback or private address")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageError{fmt.Errorf("terms: give exactly one FILE or URL")}
	}
	if *n < 1 || *n > 500 {
		return usageError{fmt.Errorf("terms: -n must be between 1 and 500")}
	}
	ref := positional[0]
	body, contentType, err := readReport(ctx, ref, *allowPrivate)
	if err != nil {
		return err
	}

	isHTML := looksHTML(body, contentType, ref)
	docTitle := ""
	extract := func(k int) []terms.Term {
		if isHTML {
			ts, t, err := terms.FromHTML(bytes.NewReader(body), k)
			if err != nil {
				return nil
			}
			docTitle = t
			return ts
		}
		docTitle = firstLine(string(body))
		return terms.FromText(string(body), k)
	}
	if isHTML {
		if _, _, err := terms.FromHTML(bytes.NewReader(body), 1); err != nil {
			return fmt.Errorf("terms: %s: %w", ref, err)
		}
	}
	ts := extract(*n)
	if len(ts) == 0 {
		return fmt.Errorf("terms: found no key terms in %s (is it empty, or not text?)", ref)
	}
	if *title == "" {
		*title = docTitle
	}
	if *title == "" {
		*title = strings.TrimSuffix(filepath.Base(ref), filepath.Ext(ref))
	}
	if *id == "" {
		*id = terms.Slug(*title)
	}
	// The query draws on more terms than are listed: a short list should
	// not make a thin query.
	queryTerms := ts
	if *n < suggestFrom {
		queryTerms = extract(suggestFrom)
	}
	query := terms.SuggestQuery(queryTerms)
	// The suggestion must be a query wirewatch accepts; a bug here would
	// hand the editor a block that fails `check`.
	if _, err := match.Parse(query); err != nil {
		return fmt.Errorf("terms: the suggested query does not parse (a bug, please report it): %w\n%s", err, query)
	}

	if *asJSON {
		return printJSON(stdout, map[string]any{"source": ref, "title": *title, "terms": ts, "query": query})
	}
	fmt.Fprintf(stdout, "Key terms of %s\n\n", ref)
	fmt.Fprintf(stdout, "  %4s  %-40s %6s  %-8s %s\n", "rank", "term", "count", "kind", "variants")
	for i, t := range ts {
		fmt.Fprintf(stdout, "  %4d  %-40s %6d  %-8s %s\n", i+1, t.Text, t.Count, t.Kind, strings.Join(t.Variants, ", "))
	}
	fmt.Fprintf(stdout, "\nTopic block (paste under topics:, then edit):\n\n%s", terms.TopicYAML(*id, *title, ref, queryTerms, query))
	return nil
}

// readReport reads a file, or fetches a URL through the guarded fetcher.
func readReport(ctx context.Context, ref string, allowPrivate bool) ([]byte, string, error) {
	if u, err := url.Parse(ref); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		f := sources.NewFetcher(sources.Options{
			UserAgent: fmt.Sprintf("wirewatch/%s (+https://github.com/wirewatch/wirewatch)", version),
			Policy:    netguard.Policy{AllowPrivate: allowPrivate},
			MaxBytes:  maxReport,
		})
		body, ct, err := f.FetchPage(ctx, ref)
		if err != nil {
			return nil, "", fmt.Errorf("terms: %w", err)
		}
		return body, ct, nil
	}
	f, err := os.Open(ref)
	if err != nil {
		return nil, "", fmt.Errorf("terms: %w", err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxReport+1))
	if err != nil {
		return nil, "", fmt.Errorf("terms: read %s: %w", ref, err)
	}
	if len(body) > maxReport {
		return nil, "", fmt.Errorf("terms: %s is larger than %d MiB", ref, maxReport>>20)
	}
	return sources.DecodePage(body, ""), "", nil
}

func looksHTML(body []byte, contentType, ref string) bool {
	if strings.Contains(contentType, "html") {
		return true
	}
	switch strings.ToLower(filepath.Ext(ref)) {
	case ".html", ".htm", ".xhtml":
		return true
	case ".txt", ".md":
		return false
	}
	head := strings.ToLower(string(body[:min(len(body), 512)]))
	return strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html")
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len([]rune(line)) > 100 {
				return ""
			}
			return line
		}
	}
	return ""
}
