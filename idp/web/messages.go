package web

import "github.com/customerhub/hubid/idp/i18n"

// Messages are the layout's strings beyond i18n's shared ones: the avatar
// menu and the pages for unknown addresses. Register them with the
// bundle (i18n.New).
var Messages = i18n.Table{
	"menu.label":           {EN: "Account menu", JA: "アカウントメニュー"},
	"menu.home":            {EN: "Customer Hub home", JA: "カスタマーハブのホーム"},
	"menu.account":         {EN: "Account settings", JA: "アカウント設定"},
	"menu.mfa":             {EN: "Multifactor Authentication", JA: "多要素認証"},
	"menu.history":         {EN: "Usage history", JA: "利用履歴"},
	"menu.console":         {EN: "Organization console", JA: "組織管理"},
	"menu.signout":         {EN: "Sign out", JA: "サインアウト"},
	"error.notfound.title": {EN: "Page not found", JA: "ページが見つかりません"},
	"error.notfound.help":  {EN: "There is no page at this address. Check the address, or start again from the Customer Hub.", JA: "このアドレスのページはありません。アドレスを確認するか、カスタマーハブからやり直してください。"},
	"error.method.title":   {EN: "This page cannot be used that way", JA: "この操作はできません"},
	"error.method":         {EN: "This address does not accept this kind of request. Start again from the Customer Hub.", JA: "このアドレスはこの種類の要求を受け付けません。カスタマーハブからやり直してください。"},
	"error.home":           {EN: "Go to the Customer Hub", JA: "カスタマーハブへ移動"},
}
