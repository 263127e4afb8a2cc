package account

import "strings"

// Device is what the history and session lists show of a User-Agent: a
// browser and an operating system, each one of a small fixed set of names
// ("" when not recognised). It never holds text copied from the header.
type Device struct{ Browser, OS string }

// browserRules and osRules are tried in order; the first token found in
// the User-Agent wins. The order carries the heuristic: every Chromium
// browser also says "Chrome/" and "Safari/", so the specific brands come
// first; Chrome and Firefox on iOS say "CriOS/" and "FxiOS/"; Safari is
// the "Version/…Safari/" of whatever is left. For the system, iPhone and
// iPad come before macOS (their UA says "like Mac OS X") and Android before
// Linux. Brands not listed here show as their engine's family or unknown;
// that is the intended trade-off for a list people only glance at.
var browserRules = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
	{"MSIE ", "Internet Explorer"}, {"Trident/", "Internet Explorer"},
	{"Version/", "Safari"}, // Safari's own UA: "Version/17.4 … Safari/605.1.15"
	{"curl/", "curl"},
}

var osRules = []struct{ token, name string }{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
	{"Android", "Android"},
	{"Windows", "Windows"},
	{"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

// maxUALen bounds the work on a header an attacker controls.
const maxUALen = 512

// ParseUserAgent names the browser and system of a User-Agent header with
// the small heuristic of browserRules and osRules (substring tests, no
// version parsing, no regular expressions).
func ParseUserAgent(ua string) Device {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	var d Device
	for _, r := range browserRules {
		if strings.Contains(ua, r.token) {
			if r.name == "Safari" && !strings.Contains(ua, "Safari/") {
				continue
			}
			d.Browser = r.name
			break
		}
	}
	for _, r := range osRules {
		if strings.Contains(ua, r.token) {
			d.OS = r.name
			break
		}
	}
	return d
}
