package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"wirewatch/news"
)

// rawConditionalGETs is the baseline: a plain net/http client sends every
// source's conditional GET (the validators wirewatch stored) with the same
// number of workers, and nothing else happens: no per-host limit, no
// parsing, no store. Its pool keeps every connection (wirewatch's
// transport keeps at most 100 idle ones).
func rawConditionalGETs(ctx context.Context, states []news.SourceState, workers int) tally {
	tr := &http.Transport{MaxIdleConns: 0, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return fanOut(states, workers, func(st news.SourceState, t *tally) {
		t.polls++
		if err := conditionalGET(ctx, client, st, t); err != nil {
			t.fail(err)
		}
	})
}

func conditionalGET(ctx context.Context, client *http.Client, st news.SourceState, t *tally) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.URL, nil)
	if err != nil {
		return err
	}
	if st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		req.Header.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNotModified:
		t.notModified++
	case http.StatusOK:
		t.ok++
	default:
		return fmt.Errorf("GET %s: %s", st.URL, resp.Status)
	}
	return nil
}
