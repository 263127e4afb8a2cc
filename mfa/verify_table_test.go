package mfa

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestVerifyTable is verification as a pure function of (secret, code,
// now, last used step): the skew window t−1…t+1 and not t±2, a code used
// once, another secret's code, malformed input, pasted spaces.
func TestVerifyTable(t *testing.T) {
	const other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_700_000_015, 0) // mid-step
	cur := Step(now)
	codeAt := func(secret string, steps int64) string {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(steps)*Period*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c0 := codeAt(rfcSecret, 0)
	cases := []struct {
		name     string
		secret   string
		code     string
		last     int64
		ok       bool
		wantStep int64
	}{
		{"t-2", rfcSecret, codeAt(rfcSecret, -2), 0, false, 0},
		{"t-1", rfcSecret, codeAt(rfcSecret, -1), 0, true, cur - 1},
		{"t", rfcSecret, c0, 0, true, cur},
		{"t+1", rfcSecret, codeAt(rfcSecret, 1), 0, true, cur + 1},
		{"t+2", rfcSecret, codeAt(rfcSecret, 2), 0, false, 0},
		{"same code again (its step recorded)", rfcSecret, c0, cur, false, 0},
		{"older code after a newer one", rfcSecret, codeAt(rfcSecret, -1), cur, false, 0},
		{"code of another secret", rfcSecret, codeAt(other, 0), 0, false, 0},
		{"non-digits", rfcSecret, "12a4b6", 0, false, 0},
		{"5 digits", rfcSecret, c0[:5], 0, false, 0},
		{"7 digits", rfcSecret, c0 + "0", 0, false, 0},
		{"spaces inside", rfcSecret, c0[:3] + " " + c0[3:], 0, true, cur},
		{"leading and trailing spaces", rfcSecret, "  " + c0 + " \t", 0, true, cur},
	}
	if codeAt(other, 0) == c0 {
		t.Fatal("the two secrets share a code at this time; pick another time")
	}
	for _, tc := range cases {
		step, ok := Verify(tc.secret, tc.code, now, tc.last)
		if ok != tc.ok || (ok && step != tc.wantStep) {
			t.Errorf("%s: Verify(%q) = %d, %v; want %d, %v", tc.name, tc.code, step, ok, tc.wantStep, tc.ok)
		}
	}
}
