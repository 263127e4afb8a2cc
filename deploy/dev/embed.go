// Package dev embeds the demo data that `hubid dev` applies at start-up.
package dev

import _ "embed"

// File is deploy/dev/seed.yaml.
//
//go:embed seed.yaml
var File []byte

// DemoPassword is the password of every demo account in seed.yaml.
const DemoPassword = "hubid-demo-password"
