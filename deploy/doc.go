// Package deploy holds no code: its tests check the deployment files
// beside it (compose.yaml and the hubid configuration it mounts) against
// hubid's configuration schema, so they cannot drift from the binary.
package deploy
