package i18n

import (
	"fmt"
	"sort"
	"strings"
)

// Term is one entry of the Japanese glossary: the word every message
// uses for a thing, the words that must not be used for it, and longer
// words that contain a forbidden one but mean something else.
type Term struct {
	Use    string
	Not    []string
	Except []string
}

// Glossary is the one vocabulary of the Japanese pages and mail. New
// refuses a bundle whose Japanese uses a word the glossary rules out, so
// a page cannot call the same thing by two names ("端末" on one page,
// "デバイス" on the next). Latin letters and digits are set off from
// Japanese by a space ("2 段階認証", "ログイン ID"), as in the rest of
// the messages. "多要素認証" stays the name of the account settings
// section, as in the customer's guide ("Multifactor Authentication").
var Glossary = []Term{
	{Use: "端末", Not: []string{"デバイス", "機器"}},
	{Use: "2 段階認証", Not: []string{"2段階認証", "二段階認証", "2 要素認証", "2要素認証", "二要素認証"}},
	{Use: "ログイン ID", Not: []string{"ログインID", "ログイン　ID"}},
	{Use: "サインイン", Not: []string{"ログイン", "ログオン"}, Except: []string{"ログイン ID"}},
	{Use: "サインアウト", Not: []string{"ログアウト", "ログオフ"}},
	{Use: "メールアドレス", Not: []string{"Eメール", "E メール", "eメール", "メアド"}},
	{Use: "パスワードの再設定", Not: []string{"パスワードリセット", "パスワードのリセット"}},
	{Use: "リカバリーコード", Not: []string{"リカバリコード", "復旧コード", "回復コード", "バックアップコード"}},
	{Use: "認証アプリ", Not: []string{"オーセンティケーター", "認証システム"}},
	{Use: "利用履歴", Not: []string{"使用履歴", "アクセス履歴"}},
	{Use: "ブラウザ", Not: []string{"ブラウザー"}},
	{Use: "ユーザー", Not: []string{"ユーザ"}},
	{Use: "フォルダー", Not: []string{"フォルダ"}},
	{Use: "カスタマーハブ", Not: []string{"カスタマー ハブ", "Customer Hub"}},
}

// GlossaryProblems lists the glossary's refusals of one Japanese text:
// for each forbidden word found (other than inside the word to use or an
// exception), "uses X, not Y".
func GlossaryProblems(ja string) []string {
	var out []string
	for _, t := range Glossary {
		keep := append([]string{t.Use}, t.Except...)
		for _, bad := range t.Not {
			for _, i := range indexes(ja, bad) {
				if !covered(ja, i, len(bad), keep) {
					out = append(out, fmt.Sprintf("uses %q, not %q", t.Use, bad))
					break
				}
			}
		}
	}
	return out
}

// indexes returns where sub starts in s.
func indexes(s, sub string) []int {
	var at []int
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return at
		}
		at = append(at, off+i)
		off += i + 1
	}
}

// covered reports whether s[i:i+n] lies inside an occurrence of a word
// of keep.
func covered(s string, i, n int, keep []string) bool {
	for _, k := range keep {
		for _, j := range indexes(s, k) {
			if j <= i && i+n <= j+len(k) {
				return true
			}
		}
	}
	return false
}

// checkGlossary reports every message whose Japanese breaks the glossary.
func checkGlossary(all Table) error {
	var problems []string
	for key, m := range all {
		for _, p := range GlossaryProblems(m.JA) {
			problems = append(problems, key+": "+p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("i18n: Japanese outside the glossary:\n  %s", strings.Join(problems, "\n  "))
}
