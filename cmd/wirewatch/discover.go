package main

import (
	"context"
	"errors"

	"wirewatch/news"
	"wirewatch/sources"
)

// discoveringFetcher lets a source's url be a web page rather than a feed:
// when the page is HTML, the feeds it announces (<link rel="alternate">)
// are discovered and the first is fetched instead. The result names that
// feed as the source's new address (PermanentURL), so the poller fetches
// it directly from then on and `wirewatch sources` shows where it is.
type discoveringFetcher struct{ f *sources.Fetcher }

// newFeedFetcher is the fetcher of feeds everywhere wirewatch reads them
// (serve, run, match): the config's network policy and User-Agent, with
// discovery.
func newFeedFetcher(cfg *Config) discoveringFetcher {
	return discoveringFetcher{sources.NewFetcher(sources.Options{UserAgent: userAgent(cfg), Policy: netPolicy(cfg.AllowPrivateNetworks)})}
}

func (d discoveringFetcher) Fetch(ctx context.Context, req news.FetchRequest) (news.FetchResult, error) {
	res, err := d.f.Fetch(ctx, req)
	if err == nil || !errors.Is(err, sources.ErrHTMLPage) {
		return res, err
	}
	links, derr := d.f.Discover(ctx, req.URL)
	if derr != nil || len(links) == 0 || links[0].URL == req.URL {
		return res, err // the page's own error says it best
	}
	feedReq := news.FetchRequest{SourceID: req.SourceID, URL: links[0].URL}
	res, ferr := d.f.Fetch(ctx, feedReq)
	if ferr != nil {
		return res, ferr
	}
	if res.PermanentURL == "" {
		res.PermanentURL = links[0].URL
	}
	return res, nil
}
