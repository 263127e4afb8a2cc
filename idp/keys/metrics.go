package keys

import "github.com/prometheus/client_golang/prometheus"

var (
	descKeyAge = prometheus.NewDesc("hubid_signing_key_age_seconds",
		"Time since the signing key was created, per published key.",
		[]string{"kid", "alg", "state"}, nil)
	descNextRotation = prometheus.NewDesc("hubid_signing_key_next_rotation_seconds",
		"Time until the scheduled rotation of the algorithm; negative when overdue.",
		[]string{"alg"}, nil)
	descSigned = prometheus.NewDesc("hubid_tokens_signed_total",
		"Tokens signed by this process, per kid (keys no longer published are dropped).",
		[]string{"kid"}, nil)
	descReloadErrors = prometheus.NewDesc("hubid_signing_key_reload_errors_total",
		"Failed reloads of the signing keys; this replica serves its last good key set meanwhile.",
		nil, nil)
)

// collector exports the manager's snapshot at scrape time: no work happens
// per token beyond one atomic increment.
type collector Manager

// Collector returns a prometheus.Collector of the signing key metrics:
// hubid_signing_key_age_seconds{kid,alg,state},
// hubid_signing_key_next_rotation_seconds{alg},
// hubid_tokens_signed_total{kid} and hubid_signing_key_reload_errors_total.
func (m *Manager) Collector() prometheus.Collector { return (*collector)(m) }

// RegisterMetrics registers Collector on reg.
func (m *Manager) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(m.Collector())
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descKeyAge
	ch <- descNextRotation
	ch <- descSigned
	ch <- descReloadErrors
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := (*Manager)(c)
	ch <- prometheus.MustNewConstMetric(descReloadErrors, prometheus.CounterValue, float64(m.reloadErrors.Load()))
	s := m.snap.Load()
	if s == nil {
		return
	}
	now := m.cfg.Now()
	for _, k := range s.records {
		ch <- prometheus.MustNewConstMetric(descKeyAge, prometheus.GaugeValue,
			now.Sub(k.CreatedAt).Seconds(), k.ID, k.Algorithm, string(k.State))
		if n := s.signed[k.ID]; n != nil {
			ch <- prometheus.MustNewConstMetric(descSigned, prometheus.CounterValue, float64(n.Load()), k.ID)
		}
	}
	for _, alg := range m.cfg.Algorithms {
		if at := NextRotation(s.records, alg, m.cfg.Policy); !at.IsZero() {
			ch <- prometheus.MustNewConstMetric(descNextRotation, prometheus.GaugeValue, at.Sub(now).Seconds(), alg)
		}
	}
}

var _ prometheus.Collector = (*collector)(nil)
