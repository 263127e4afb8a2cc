package pwpolicy

import "github.com/customerhub/hubid/idp/i18n"

// Messages are the policy's refusals and guidance; pass the table to
// i18n.New with the pages' tables.
var Messages = i18n.Table{
	KeyTooShort: {EN: "Use at least %d characters.", JA: "%d 文字以上にしてください。"},
	KeyTooLong:  {EN: "Use at most %d characters.", JA: "%d 文字以内にしてください。"},
	KeyInvalid:  {EN: "The password contains characters that cannot be used.", JA: "パスワードに使用できない文字が含まれています。"},
	KeyBlank:    {EN: "The password cannot consist only of spaces.", JA: "空白だけのパスワードは使用できません。"},
	KeyPersonal: {EN: "Do not use your email address or name as your password.", JA: "メールアドレスや名前をパスワードにしないでください。"},
	KeyTrivial:  {EN: "Repeated characters or simple sequences such as 12345678 are easy to guess; choose another password.", JA: "同じ文字の繰り返しや 12345678 のような単純な並びは推測されやすいため、別のパスワードを選んでください。"},
	KeyCommon:   {EN: "This password is too common or has appeared in data breaches; choose another.", JA: "このパスワードはよく使われているか、過去の情報漏えいで流出しています。別のパスワードを選んでください。"},
	KeyHint:     {EN: "Use at least %d characters. Any characters are allowed; a few unrelated words make a strong password that is easy to remember.", JA: "%d 文字以上にしてください。どの文字でも使えます。関係のない単語をいくつか並べると、覚えやすく強いパスワードになります。"},
}
