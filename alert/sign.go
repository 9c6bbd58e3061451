// Package alert announces matches to the outside world: it renders webhook
// payloads (a documented JSON event with a JSON Schema, Slack, Discord and
// Microsoft Teams messages, or a desk's own text/template), signs them
// the Standard Webhooks way, and delivers the rows of the durable outbox with
// retries, so an alert survives a receiver outage or a restart of wirewatch.
//
// It imports only the standard library, news and netguard: the outbox itself
// lives in store and reaches the dispatcher through the small Queue interface.
package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names. http.Header canonicalises them on the wire
// ("Webhook-Id"); HTTP header names are case-insensitive, so receivers see
// the same header either way.
const (
	headerID        = "webhook-id"
	headerTimestamp = "webhook-timestamp"
	headerSignature = "webhook-signature"
)

const (
	secretPrefix = "whsec_"
	// minSecretBytes is the smallest key the spec allows a producer to use
	// (24 to 64 random bytes). Sign and Verify accept shorter keys so they
	// interoperate with any receiver library; ValidSecret, which guards our
	// own configuration, does not.
	minSecretBytes = 24
	// DefaultTolerance is how far a webhook-timestamp may be from the
	// receiver's clock before Verify refuses it as a possible replay.
	DefaultTolerance = 5 * time.Minute
)

// decodeSecret turns "whsec_<base64>" (prefix optional) into the HMAC key.
// Unpadded base64 is accepted too, as the Python and JavaScript libraries
// do, so a secret copied without its trailing "=" still works.
func decodeSecret(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, secretPrefix)
	if s == "" {
		return nil, errors.New("empty webhook secret")
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil && !strings.Contains(s, "=") {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		// The secret itself is never echoed into an error: errors end up
		// in logs and in the outbox's last_error column.
		return nil, errors.New("webhook secret is not valid base64 (want whsec_<base64>)")
	}
	if len(key) == 0 {
		return nil, errors.New("empty webhook secret")
	}
	return key, nil
}

// ValidSecret reports whether s is a usable signing secret for config
// validation. It is stricter than Sign: besides decoding, the key must be at
// least the 24 bytes the Standard Webhooks spec asks producers to use, so a
// guessable secret such as "whsec_dGVzdA==" is refused before it is ever
// used.
func ValidSecret(s string) error {
	key, err := decodeSecret(s)
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	if len(key) < minSecretBytes {
		return fmt.Errorf("alert: webhook secret decodes to %d bytes, want at least %d (e.g. whsec_ followed by `openssl rand -base64 32`)", len(key), minSecretBytes)
	}
	return nil
}

// checkMsgID refuses ids that would make the signed content ambiguous: the
// spec signs "id.timestamp.body", so a "." inside the id could shift bytes
// between the id and the timestamp without changing the MAC.
func checkMsgID(msgID string) error {
	if msgID == "" {
		return errors.New("empty webhook id")
	}
	if strings.Contains(msgID, ".") {
		return fmt.Errorf("webhook id %q contains '.'", msgID)
	}
	return nil
}

func mac(key []byte, msgID string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(unix, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the Standard Webhooks signature header value for one secret:
// "v1,<base64 HMAC-SHA256 of msgID.timestamp.body>". The secret is
// "whsec_<base64>"; the prefix is optional and a secret that is not valid
// base64 is an error.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("alert: sign: %w", err)
	}
	if err := checkMsgID(msgID); err != nil {
		return "", fmt.Errorf("alert: sign: %w", err)
	}
	if ts.Unix() < 0 {
		return "", fmt.Errorf("alert: sign: webhook timestamp %s is before 1970", ts.UTC().Format(time.RFC3339))
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

// SignHeaders sets webhook-id, webhook-timestamp (unix seconds) and
// webhook-signature on h. The signature header carries one space-separated
// v1 signature per secret, so during a rotation a receiver holding either
// the old or the new secret can verify. With no secrets (Slack and Discord
// do not verify) the id and timestamp are still set and the signature
// header is left out.
func SignHeaders(h http.Header, secrets []string, msgID string, ts time.Time, body []byte) error {
	if err := checkMsgID(msgID); err != nil {
		return fmt.Errorf("alert: sign: %w", err)
	}
	sigs := make([]string, 0, len(secrets))
	for i, s := range secrets {
		sig, err := Sign(s, msgID, ts, body)
		if err != nil {
			// Sign's error already says "alert: sign:"; add which secret.
			return fmt.Errorf("%w (secret #%d)", err, i+1)
		}
		sigs = append(sigs, sig)
	}
	h.Set(headerID, msgID)
	h.Set(headerTimestamp, strconv.FormatInt(ts.Unix(), 10))
	if len(sigs) > 0 {
		h.Set(headerSignature, strings.Join(sigs, " "))
	} else {
		h.Del(headerSignature)
	}
	return nil
}

// headerValues reads a header by its canonical name and, for header maps
// built by hand with lower-case keys, by its literal name too.
func headerValues(h http.Header, name string) []string {
	if v := h.Values(name); len(v) > 0 {
		return v
	}
	return h[name]
}

// parseUnix accepts only what the spec allows: a non-negative integer
// number of seconds, digits only (no sign, no fraction, no spaces).
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("invalid %s %q", headerTimestamp, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("invalid %s %q", headerTimestamp, s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// Verify checks a request the way a receiver would: the three headers are
// present, the timestamp is within tolerance of now (DefaultTolerance when
// tolerance <= 0), and at least one v1 signature in the header matches,
// compared in constant time. Signatures of other schemes (v1a, v2, ...) are
// skipped, as are malformed ones.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ids := headerValues(h, headerID)
	tss := headerValues(h, headerTimestamp)
	sigs := headerValues(h, headerSignature)
	switch {
	case len(ids) == 0 || ids[0] == "":
		return fmt.Errorf("alert: verify: missing %s header", headerID)
	case len(tss) == 0 || tss[0] == "":
		return fmt.Errorf("alert: verify: missing %s header", headerTimestamp)
	case len(sigs) == 0 || strings.TrimSpace(strings.Join(sigs, "")) == "":
		return fmt.Errorf("alert: verify: missing %s header", headerSignature)
	}
	msgID := ids[0]
	if err := checkMsgID(msgID); err != nil {
		return fmt.Errorf("alert: verify: %w", err)
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return fmt.Errorf("alert: verify: %w", err)
	}
	unix, err := parseUnix(tss[0])
	if err != nil {
		return fmt.Errorf("alert: verify: %w", err)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare in seconds: the header has no sub-second part, and converting
	// a far-future timestamp to a time.Duration would overflow.
	skew := now.Unix() - unix
	tol := int64(tolerance / time.Second)
	if skew > tol {
		return errors.New("alert: verify: timestamp too old")
	}
	if skew < -tol {
		return errors.New("alert: verify: timestamp too new")
	}
	want := mac(key, msgID, unix, body)
	for _, field := range sigs {
		for _, sig := range strings.Fields(field) {
			version, enc, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				continue
			}
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errors.New("alert: verify: no matching signature")
}
