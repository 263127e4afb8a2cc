package idp

// KnownPaths are the public listener's fixed paths, for the navigation
// test.
var KnownPaths = knownPaths
