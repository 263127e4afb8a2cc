package login

import "github.com/customerhub/hubid/idp/i18n"

// NavMessages are the strings of the pages that end a flow without
// leaving the person stuck: the not-entitled answer and the way on after
// signing out. Register them with Messages.
var NavMessages = i18n.Table{
	"signin.notentitled.title": {EN: "This service is not available to you", JA: "このサービスは利用できません"},
	"signin.notentitled.intro": {EN: "You are signed in as %s, but none of your organizations uses %s.", JA: "%s としてサインインしていますが、所属組織はいずれも %s を利用していません。"},
	"signin.notentitled.orgs":  {EN: "Your organizations", JA: "所属組織"},
	"signin.notentitled.apply": {EN: "Apply for this service", JA: "このサービスの利用を申請"},
	"signin.notentitled.admin": {EN: "As an administrator you can apply for %s in the organization console; the service becomes available once the application is approved.", JA: "管理者は組織管理から %s の利用を申請できます。申請が承認されると利用できるようになります。"},
	"signin.notentitled.ask":   {EN: "To use %s, ask an administrator of your organization to apply for it.", JA: "%s を利用するには、組織の管理者に利用申請を依頼してください。"},
	"signin.notentitled.noorg": {EN: "You do not belong to an organization yet. Ask your organization's administrator to invite you.", JA: "まだどの組織にも所属していません。組織の管理者に招待を依頼してください。"},
	"signin.notentitled.hub":   {EN: "Go to the Customer Hub", JA: "カスタマーハブへ移動"},
	"logout.done.signin":       {EN: "Sign in again", JA: "もう一度サインイン"},
	"signin.org.refused.hub":   {EN: "Go to the Customer Hub", JA: "カスタマーハブへ移動"},
}
