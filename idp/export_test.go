package idp

import "github.com/customerhub/hubid/idp/i18n"

// KnownPaths are the public listener's fixed paths, for the navigation
// test.
var KnownPaths = knownPaths

// BundleOf is the server's message bundle.
func BundleOf(s *Server) *i18n.Bundle { return s.renderer.Bundle }
