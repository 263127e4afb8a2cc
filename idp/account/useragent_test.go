package account

import (
	"slices"
	"strings"
	"testing"
)

func TestParseUserAgent(t *testing.T) {
	for _, c := range []struct {
		ua   string
		want Device
	}{
		{uaChromeWindows, Device{"Chrome", "Windows"}},
		{uaSafariIPhone, Device{"Safari", "iPhone"}},
		{uaFirefoxLinux, Device{"Firefox", "Linux"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", Device{"Safari", "macOS"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", Device{"Chrome", "macOS"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68", Device{"Edge", "Windows"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36", Device{"Chrome", "Android"}},
		{"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", Device{"Samsung Internet", "Android"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", Device{"Chrome", "iPhone"}},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15", Device{"Firefox", "iPad"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", Device{"Opera", "Windows"}},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", Device{"Chrome", "ChromeOS"}},
		{"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", Device{"Internet Explorer", "Windows"}},
		{"curl/8.5.0", Device{"curl", ""}},
		{"", Device{}},
		{"<script>alert(1)</script>", Device{}},
	} {
		if got := ParseUserAgent(c.ua); got != c.want {
			t.Errorf("%q: got %+v, want %+v", c.ua, got, c.want)
		}
	}
}

// FuzzParseUserAgent: whatever the header, the result is one of the fixed
// names (never text from the header) and the work is bounded.
func FuzzParseUserAgent(f *testing.F) {
	f.Add(uaChromeWindows)
	f.Add(uaSafariIPhone)
	f.Add("Version/1 Safari/2 iPhone Android Linux")
	f.Add(strings.Repeat("Chrome/", 200))
	var browsers, systems []string
	for _, r := range browserRules {
		browsers = append(browsers, r.name)
	}
	for _, r := range osRules {
		systems = append(systems, r.name)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		d := ParseUserAgent(ua)
		if d.Browser != "" && !slices.Contains(browsers, d.Browser) {
			t.Fatalf("browser %q is not a fixed name", d.Browser)
		}
		if d.OS != "" && !slices.Contains(systems, d.OS) {
			t.Fatalf("system %q is not a fixed name", d.OS)
		}
	})
}
