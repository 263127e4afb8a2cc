package i18n

// messages are the strings shared by every page (layout, errors); page
// packages bring their own Table.
var messages = Table{
	"app.name":          {EN: "Customer Hub", JA: "カスタマーハブ"},
	"lang.switch":       {EN: "Language", JA: "言語"},
	"lang.en":           {EN: "English", JA: "English"},
	"lang.ja":           {EN: "日本語", JA: "日本語"},
	"error.title":       {EN: "Something went wrong", JA: "エラーが発生しました"},
	"error.expired":     {EN: "This sign-in request has expired. Go back to the service and start again.", JA: "このサインイン要求の有効期限が切れました。サービスに戻ってやり直してください。"},
	"error.badrequest":  {EN: "The request from the service is invalid. Contact the service's support.", JA: "サービスからの要求が正しくありません。サービスのサポートにお問い合わせください。"},
	"error.unavailable": {EN: "The service is temporarily unavailable. Please try again in a few minutes.", JA: "サービスが一時的に利用できません。数分後にもう一度お試しください。"},
	"error.internal":    {EN: "An unexpected error occurred. Please try again.", JA: "予期しないエラーが発生しました。もう一度お試しください。"},
	"error.notfound":    {EN: "The page was not found.", JA: "ページが見つかりません。"},
	"error.forbidden":   {EN: "The request was refused.", JA: "要求は拒否されました。"},
	"error.notentitled": {EN: "Your organization does not use this service. Ask your organization's administrator to apply for it.", JA: "あなたの組織はこのサービスを利用していません。組織の管理者に利用申請を依頼してください。"},
	"error.reference":   {EN: "Reference: %s", JA: "参照番号: %s"},
	"error.helpdesk":    {EN: "Helpdesk: %s", JA: "ヘルプデスク: %s"},
	"home.title":        {EN: "Customer Hub", JA: "カスタマーハブ"},
	"home.signedin":     {EN: "Signed in as %s", JA: "%s としてサインイン中"},
}
