package sources

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"wirewatch/netguard"
)

func TestDiscoverPage(t *testing.T) {
	page := readFixture(t, "discover/page.html")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "/home/index.html", http.StatusFound)
		case "/home/index.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		default:
			http.NotFound(w, r)
		}
	})
	links, err := newTestFetcher(t, Options{}).Discover(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	want := []FeedLink{
		{URL: srv.URL + "/blog/feed.xml", Title: "Main & more", Type: "application/rss+xml"},
		{URL: "https://other.example.org/atom", Title: "Atom edition", Type: "application/atom+xml"},
		{URL: srv.URL + "/blog/feed.json", Title: "Café (JSON)", Type: "application/feed+json"},
		{URL: srv.URL + "/feeds/all.json", Title: "Plain JSON feed", Type: "application/json"},
		{URL: srv.URL + "/comments/feed/", Title: "Comments", Type: "application/rss+xml"},
	}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("links:\n got %+v\nwant %+v", links, want)
	}
}

func TestDiscoverFeedURLIsItsOwnAnswer(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old-feed":
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
		case "/temporary":
			http.Redirect(w, r, "/feed", http.StatusFound)
		case "/feed":
			w.Header().Set("Content-Type", "text/xml")
			w.Write(readFixture(t, "atom10.xml"))
		case "/json":
			w.Write(readFixture(t, "jsonfeed11.json"))
		case "/broken":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(readFixture(t, "malformed.xml"))
		}
	})
	f := newTestFetcher(t, Options{})
	for path, want := range map[string]FeedLink{
		"/feed":      {URL: srv.URL + "/feed", Title: "Rights & Justice Monitor", Type: "application/atom+xml"},
		"/old-feed":  {URL: srv.URL + "/feed", Title: "Rights & Justice Monitor", Type: "application/atom+xml"},
		"/temporary": {URL: srv.URL + "/temporary", Title: "Rights & Justice Monitor", Type: "application/atom+xml"},
	} {
		links, err := f.Discover(context.Background(), srv.URL+path)
		if err != nil || len(links) != 1 || links[0] != want {
			t.Errorf("%s: %+v, %v; want %+v", path, links, err, want)
		}
	}
	links, err := f.Discover(context.Background(), srv.URL+"/json")
	if err != nil || len(links) != 1 || links[0].Type != "application/feed+json" || links[0].URL != srv.URL+"/json" {
		t.Errorf("json feed: %+v, %v", links, err)
	}
	_, err = f.Discover(context.Background(), srv.URL+"/broken")
	fetchErr(t, err, ReasonParse)
}

func TestDiscoverFailures(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html><head><title>No feeds here</title></head><body><a href="/rss">rss</a></body></html>`))
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("just text"))
		default:
			http.NotFound(w, r)
		}
	})
	f := newTestFetcher(t, Options{})
	for _, path := range []string{"/plain", "/text"} {
		links, err := f.Discover(context.Background(), srv.URL+path)
		if err != nil || len(links) != 0 {
			t.Errorf("%s: %+v, %v; want no links and no error", path, links, err)
		}
	}
	_, err := f.Discover(context.Background(), srv.URL+"/missing")
	if fe := fetchErr(t, err, ReasonHTTP4xx); fe.Status != http.StatusNotFound {
		t.Errorf("Status %d", fe.Status)
	}
	_, err = NewFetcher(Options{Policy: netguard.Policy{}}).Discover(context.Background(), srv.URL+"/plain")
	fetchErr(t, err, ReasonSSRFBlocked)
	_, err = f.Discover(context.Background(), "ftp://example.org/")
	fetchErr(t, err, ReasonOther)
}

func TestDiscoverBigPageIsCapped(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(make([]byte, 64<<10))
	})
	_, err := newTestFetcher(t, Options{MaxBytes: 32 << 10}).Discover(context.Background(), srv.URL)
	fetchErr(t, err, ReasonTooLarge)
}
