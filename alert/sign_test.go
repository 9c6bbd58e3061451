package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/internal/shared"
)

// testSecret is 32 bytes 0x01..0x20; its signature below was computed
// outside Go (Python hmac/hashlib), so Sign is checked against an
// independent implementation even when ../shared is absent.
const (
	testSecret   = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	testKATMsgID = "msg_wirewatch_kat"
	testKATUnix  = 1700000000
	testKATBody  = `{"hello":"world"}`
	testKATSig   = "v1,l5k9XwH1Wxo1v133FKyXaI2rMqgdDaVtAY2dHakLm/w="
)

func TestSignKnownAnswer(t *testing.T) {
	got, err := Sign(testSecret, testKATMsgID, time.Unix(testKATUnix, 0), []byte(testKATBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != testKATSig {
		t.Errorf("Sign = %q, want %q", got, testKATSig)
	}

	// And against crypto/hmac directly, with the prefix stripped by hand.
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(testKATMsgID + "." + strconv.Itoa(testKATUnix) + "." + testKATBody))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if got != want {
		t.Errorf("Sign = %q, crypto/hmac gives %q", got, want)
	}

	// The whsec_ prefix is optional.
	unprefixed, err := Sign(strings.TrimPrefix(testSecret, "whsec_"), testKATMsgID, time.Unix(testKATUnix, 0), []byte(testKATBody))
	if err != nil || unprefixed != got {
		t.Errorf("unprefixed secret: %q, %v; want %q", unprefixed, err, got)
	}
}

func TestSignErrors(t *testing.T) {
	ts := time.Unix(testKATUnix, 0)
	for _, tc := range []struct {
		name, secret, id string
		ts               time.Time
	}{
		{"empty secret", "", "msg_1", ts},
		{"prefix only", "whsec_", "msg_1", ts},
		{"not base64", "whsec_!!!not-base64!!!", "msg_1", ts},
		{"empty id", testSecret, "", ts},
		{"dot in id", testSecret, "msg.1", ts},
		{"before 1970", testSecret, "msg_1", time.Unix(-1, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := Sign(tc.secret, tc.id, tc.ts, []byte("x"))
			if err == nil {
				t.Fatalf("Sign = %q, want error", sig)
			}
			if tc.secret != "" && tc.secret != "whsec_" && strings.Contains(err.Error(), strings.TrimPrefix(tc.secret, "whsec_")) {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
}

func TestValidSecret(t *testing.T) {
	for _, tc := range []struct {
		secret string
		ok     bool
	}{
		{testSecret, true},
		{strings.TrimPrefix(testSecret, "whsec_"), true},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true}, // 24 bytes, the spec's minimum
		{"whsec_dGVzdA==", false},                        // "test": decodes, but guessable
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", false}, // 23 bytes
		{"", false},
		{"whsec_", false},
		{"whsec_not base64 at all!", false},
	} {
		err := ValidSecret(tc.secret)
		if (err == nil) != tc.ok {
			t.Errorf("ValidSecret(%q) = %v, want ok=%v", tc.secret, err, tc.ok)
		}
	}
}

func signedHeaders(t *testing.T, secrets []string, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	h := http.Header{}
	if err := SignHeaders(h, secrets, id, ts, body); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignHeadersRotation(t *testing.T) {
	oldSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ts := time.Unix(1_750_000_000, 0)
	body := []byte(`{"type":"match.created"}`)
	h := signedHeaders(t, []string{testSecret, oldSecret}, "msg_rot", ts, body)

	if got := h.Get("webhook-id"); got != "msg_rot" {
		t.Errorf("webhook-id = %q", got)
	}
	if got := h.Get("webhook-timestamp"); got != "1750000000" {
		t.Errorf("webhook-timestamp = %q", got)
	}
	sigs := strings.Split(h.Get("webhook-signature"), " ")
	if len(sigs) != 2 {
		t.Fatalf("webhook-signature = %q, want two signatures", h.Get("webhook-signature"))
	}
	for i, s := range []string{testSecret, oldSecret} {
		want, _ := Sign(s, "msg_rot", ts, body)
		if sigs[i] != want {
			t.Errorf("signature %d = %q, want %q", i, sigs[i], want)
		}
		if err := Verify(s, h, body, ts, 0); err != nil {
			t.Errorf("Verify with secret %d: %v", i, err)
		}
	}
	if err := Verify("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", h, body, ts, 0); err == nil {
		t.Error("Verify with a third secret succeeded")
	}

	// A bad secret anywhere in the list fails the whole signing.
	if err := SignHeaders(http.Header{}, []string{testSecret, "whsec_???"}, "msg_rot", ts, body); err == nil {
		t.Error("SignHeaders with an invalid second secret succeeded")
	}
	// No secrets: id and timestamp still set, no signature header.
	h = signedHeaders(t, nil, "msg_rot", ts, body)
	if h.Get("webhook-id") != "msg_rot" || h.Get("webhook-timestamp") == "" {
		t.Errorf("unsigned headers = %v", h)
	}
	if _, ok := h["Webhook-Signature"]; ok {
		t.Errorf("unsigned request has a signature header: %v", h)
	}
}

func TestVerifyRejects(t *testing.T) {
	ts := time.Unix(1_750_000_000, 0)
	body := []byte(`{"a":1}`)
	good := signedHeaders(t, []string{testSecret}, "msg_v", ts, body)
	if err := Verify(testSecret, good, body, ts, 0); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	with := func(key, value string) http.Header {
		h := good.Clone()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		now  time.Time
		tol  time.Duration
	}{
		{"tampered body", good, []byte(`{"a":2}`), ts, 0},
		{"other id", with("webhook-id", "msg_w"), body, ts, 0},
		{"other timestamp", with("webhook-timestamp", "1750000001"), body, ts.Add(time.Second), 0},
		{"dot in id", with("webhook-id", "msg.v"), body, ts, 0},
		{"missing id", with("webhook-id", ""), body, ts, 0},
		{"missing timestamp", with("webhook-timestamp", ""), body, ts, 0},
		{"missing signature", with("webhook-signature", ""), body, ts, 0},
		{"blank signature", with("webhook-signature", "   "), body, ts, 0},
		{"right MAC, wrong scheme", with("webhook-signature", "v2,"+strings.TrimPrefix(good.Get("webhook-signature"), "v1,")), body, ts, 0},
		{"no scheme", with("webhook-signature", strings.TrimPrefix(good.Get("webhook-signature"), "v1,")), body, ts, 0},
		{"plus-signed timestamp", with("webhook-timestamp", "+1750000000"), body, ts, 0},
		{"huge timestamp", with("webhook-timestamp", "99999999999999999999"), body, ts, 0},
		{"old beyond default tolerance", good, body, ts.Add(5*time.Minute + time.Second), 0},
		{"old beyond explicit tolerance", good, body, ts.Add(11 * time.Second), 10 * time.Second},
		{"from the future", good, body, ts.Add(-5*time.Minute - time.Second), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(testSecret, tc.h, tc.body, tc.now, tc.tol); err == nil {
				t.Error("Verify succeeded, want error")
			}
		})
	}
	// Exactly at the tolerance is still accepted, both directions.
	for _, now := range []time.Time{ts.Add(5 * time.Minute), ts.Add(-5 * time.Minute)} {
		if err := Verify(testSecret, good, body, now, 0); err != nil {
			t.Errorf("Verify at the tolerance edge (%v): %v", now.Sub(ts), err)
		}
	}
	// Header maps built by hand with lower-case keys work too.
	raw := http.Header{
		"webhook-id":        {"msg_v"},
		"webhook-timestamp": {good.Get("webhook-timestamp")},
		"webhook-signature": {good.Get("webhook-signature")},
	}
	if err := Verify(testSecret, raw, body, ts, 0); err != nil {
		t.Errorf("lower-case header map: %v", err)
	}
}

// vectors mirrors ../shared/corpora/standard-webhooks/vectors.json.
type vectors struct {
	Sign []struct {
		Name              string `json:"name"`
		Secret            string `json:"secret"`
		MsgID             string `json:"msg_id"`
		Timestamp         int64  `json:"timestamp"`
		Payload           string `json:"payload"`
		ExpectedSignature string `json:"expected_signature"`
	} `json:"sign"`
	Verify []struct {
		Name            string `json:"name"`
		Secret          string `json:"secret"`
		MsgID           string `json:"msg_id"`
		Timestamp       int64  `json:"timestamp"`
		Payload         string `json:"payload"`
		SignatureHeader string `json:"signature_header"`
		ExpectValid     bool   `json:"expect_valid"`
	} `json:"verify"`
	TimestampRules []struct {
		Name            string  `json:"name"`
		OffsetSeconds   *int64  `json:"offset_seconds"`
		TimestampHeader *string `json:"timestamp_header"`
		IgnoreTimestamp bool    `json:"ignore_timestamp"`
		ExpectValid     bool    `json:"expect_valid"`
	} `json:"timestamp_rules"`
	HeaderRules []struct {
		Name        string `json:"name"`
		ExpectValid bool   `json:"expect_valid"`
	} `json:"header_rules"`
	SecretRules []struct {
		Secret                string `json:"secret"`
		ExpectError           bool   `json:"expect_error"`
		ExpectedSignatureForA string `json:"expected_signature_for_A"`
	} `json:"secret_rules"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	path := shared.Path(t, "corpora", "standard-webhooks", "vectors.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Standard Webhooks vectors not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(v.Sign) == 0 || len(v.Verify) == 0 {
		t.Fatalf("%s: no sign or verify cases; has its layout changed?", path)
	}
	return v
}

func TestStandardWebhooksVectors(t *testing.T) {
	v := loadVectors(t)

	t.Run("sign", func(t *testing.T) {
		for _, c := range v.Sign {
			got, err := Sign(c.Secret, c.MsgID, time.Unix(c.Timestamp, 0), []byte(c.Payload))
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			if got != c.ExpectedSignature {
				t.Errorf("%s: Sign = %q, want %q", c.Name, got, c.ExpectedSignature)
			}
		}
	})

	t.Run("verify", func(t *testing.T) {
		for _, c := range v.Verify {
			h := http.Header{}
			h.Set("webhook-id", c.MsgID)
			h.Set("webhook-timestamp", strconv.FormatInt(c.Timestamp, 10))
			h.Set("webhook-signature", c.SignatureHeader)
			// The vectors' timestamps are years old: verify "at" them.
			err := Verify(c.Secret, h, []byte(c.Payload), time.Unix(c.Timestamp, 0), 0)
			if (err == nil) != c.ExpectValid {
				t.Errorf("%s: Verify = %v, want valid=%v", c.Name, err, c.ExpectValid)
			}
		}
	})

	// Timestamp and header rules carry no signature of their own: sign a
	// request with the first sign vector and bend one thing at a time.
	a := v.Sign[0]
	now := time.Unix(a.Timestamp, 0)
	signed := func(ts time.Time, tsHeader string) http.Header {
		h := signedHeaders(t, []string{a.Secret}, a.MsgID, ts, []byte(a.Payload))
		if tsHeader != "" {
			h.Set("webhook-timestamp", tsHeader)
		}
		return h
	}

	t.Run("timestamp_rules", func(t *testing.T) {
		for _, r := range v.TimestampRules {
			if r.IgnoreTimestamp {
				continue // Verify always checks the timestamp; nothing to test
			}
			var h http.Header
			switch {
			case r.TimestampHeader != nil:
				h = signed(now, *r.TimestampHeader)
			case r.OffsetSeconds != nil:
				h = signed(now.Add(time.Duration(*r.OffsetSeconds)*time.Second), "")
			default:
				t.Fatalf("%s: rule has neither offset nor header", r.Name)
			}
			err := Verify(a.Secret, h, []byte(a.Payload), now, 0)
			if (err == nil) != r.ExpectValid {
				t.Errorf("%s: Verify = %v, want valid=%v", r.Name, err, r.ExpectValid)
			}
		}
	})

	t.Run("header_rules", func(t *testing.T) {
		names := map[string]string{
			"missing_webhook_id":        "webhook-id",
			"missing_webhook_timestamp": "webhook-timestamp",
			"missing_webhook_signature": "webhook-signature",
		}
		for _, r := range v.HeaderRules {
			hdr, ok := names[r.Name]
			if !ok {
				t.Errorf("unknown header rule %q", r.Name)
				continue
			}
			h := signed(now, "")
			h.Del(hdr)
			err := Verify(a.Secret, h, []byte(a.Payload), now, 0)
			if (err == nil) != r.ExpectValid {
				t.Errorf("%s: Verify = %v, want valid=%v", r.Name, err, r.ExpectValid)
			}
		}
	})

	t.Run("secret_rules", func(t *testing.T) {
		for _, r := range v.SecretRules {
			sig, err := Sign(r.Secret, a.MsgID, now, []byte(a.Payload))
			if (err != nil) != r.ExpectError {
				t.Errorf("secret %q: Sign error = %v, want error=%v", r.Secret, err, r.ExpectError)
				continue
			}
			if r.ExpectedSignatureForA != "" && sig != r.ExpectedSignatureForA {
				t.Errorf("secret %q: Sign = %q, want %q", r.Secret, sig, r.ExpectedSignatureForA)
			}
		}
	})
}
