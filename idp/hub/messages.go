package hub

import (
	"embed"

	"github.com/customerhub/hubid/idp/i18n"
)

// Templates are the hub's pages.
//
//go:embed templates/*.html
var Templates embed.FS

// Messages are the hub pages' strings.
var Messages = i18n.Table{
	"home.greeting":      {EN: "Hello, %s", JA: "%s さん、こんにちは"},
	"home.orgs":          {EN: "Your organizations", JA: "所属組織"},
	"home.org.code":      {EN: "Code", JA: "コード"},
	"home.org.role":      {EN: "Account type", JA: "アカウント種別"},
	"home.services":      {EN: "Your services", JA: "利用できるサービス"},
	"home.services.none": {EN: "None of your organizations uses a service yet.", JA: "所属組織が利用しているサービスはまだありません。"},
	"home.account":       {EN: "Account settings", JA: "アカウント設定"},
	"home.signout":       {EN: "Sign out", JA: "サインアウト"},
	"home.unverified":    {EN: "Your email address is not verified yet. Check your inbox for the verification link.", JA: "メールアドレスはまだ確認されていません。受信した確認用リンクを開いてください。"},
	"home.org.name":      {EN: "Organization", JA: "組織"},
	"home.orgs.none":     {EN: "You do not belong to an organization yet.", JA: "まだどの組織にも所属していません。"},
	"home.shortcuts":     {EN: "Your account", JA: "アカウント"},
	"home.mfa":           {EN: "Multifactor Authentication", JA: "多要素認証"},
	"home.history":       {EN: "Usage history", JA: "利用履歴"},
	"role.administrator": {EN: "Administrator", JA: "管理者"},
	"role.normal":        {EN: "Normal", JA: "一般"},
	"role.visitor":       {EN: "Visitor", JA: "ゲスト"},
}
