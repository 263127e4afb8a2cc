package consentui

import (
	"embed"

	"github.com/customerhub/hubid/idp/i18n"
)

// Templates are the consent page (rendered with web's layout).
//
//go:embed templates/*.html
var Templates embed.FS

// Messages are the consent page's strings, including the scope
// descriptions named by consent.ScopeKey.
var Messages = i18n.Table{
	"consent.title":                {EN: "Allow access", JA: "アクセスの許可"},
	"consent.signedin":             {EN: "Signed in as %s", JA: "%s としてサインイン中"},
	"consent.wants":                {EN: "%s is asking for:", JA: "%s が次の許可を求めています:"},
	"consent.help":                 {EN: "Allow only services you trust. You can withdraw this at any time in your account settings.", JA: "信頼できるサービスにのみ許可してください。許可はアカウント設定からいつでも取り消せます。"},
	"consent.allow":                {EN: "Allow", JA: "許可する"},
	"consent.deny":                 {EN: "Deny", JA: "拒否する"},
	"consent.scope.profile":        {EN: "Your name and language", JA: "氏名と言語"},
	"consent.scope.email":          {EN: "Your email address", JA: "メールアドレス"},
	"consent.scope.offline_access": {EN: "Stay connected when you are not using it", JA: "利用していない間も接続を維持する"},
	"consent.scope.roles":          {EN: "Your organizations and account types", JA: "所属組織とアカウント種別"},
	"consent.scope.other":          {EN: "Other access: %s", JA: "その他のアクセス: %s"},
}
