package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The example file documents every key: it must parse, pass ValidateServe,
// and mention every yaml key of Config.
func TestExampleFileIsValidAndComplete(t *testing.T) {
	c, err := Load("../../deploy/hubid.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateServe(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("../../deploy/hubid.example.yaml")
	var walk func(reflect.Type, string)
	walk = func(tp reflect.Type, path string) {
		for i := range tp.NumField() {
			f := tp.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(string(raw), key+":") {
				t.Errorf("deploy/hubid.example.yaml does not document %s%s", path, key)
			}
			ft := f.Type
			if ft.Kind() == reflect.Struct && ft.Name() != "SecretRef" {
				walk(ft, path+key+".")
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}
