package login

import "github.com/customerhub/hubid/idp/i18n"

// Messages are the sign-in and logout pages' strings.
var Messages = i18n.Table{
	"signin.title":                {EN: "Sign in", JA: "サインイン"},
	"signin.to":                   {EN: "to continue to %s", JA: "%s を利用するには"},
	"signin.email":                {EN: "Email address", JA: "メールアドレス"},
	"signin.next":                 {EN: "Next", JA: "次へ"},
	"signin.password":             {EN: "Password", JA: "パスワード"},
	"signin.remember":             {EN: "Automatically sign in next time", JA: "次回から自動的にサインイン"},
	"signin.remember.help":        {EN: "You stay signed in on this device until 14 days pass without using it.", JA: "この端末では、14日間利用がない場合までサインインしたままになります。"},
	"signin.submit":               {EN: "Sign in", JA: "サインイン"},
	"signin.forgot":               {EN: "Forgot password?", JA: "パスワードをお忘れですか？"},
	"signin.notyou":               {EN: "Use another email address", JA: "別のメールアドレスを使用"},
	"signin.failed":               {EN: "The email address or password is incorrect.", JA: "メールアドレスまたはパスワードが正しくありません。"},
	"signin.throttled":            {EN: "Too many failed attempts. Try again after %s.", JA: "失敗が続いたため、一時的にサインインできません。%s 以降にもう一度お試しください。"},
	"signin.locked":               {EN: "Sign-in is locked after too many failed attempts. Try again after %s.", JA: "失敗が多すぎるため、サインインがロックされています。%s 以降にもう一度お試しください。"},
	"signin.email.required":       {EN: "Enter your email address.", JA: "メールアドレスを入力してください。"},
	"signin.password.required":    {EN: "Enter your password.", JA: "パスワードを入力してください。"},
	"signin.legacy.preregister":   {EN: "This is a login ID of a service, not an email address. Login IDs do not sign in to the Customer Hub: register your login ID once, and from then on sign in with your email address.", JA: "入力されたのはサービスのログイン ID で、メールアドレスではありません。カスタマーハブにはログイン ID ではサインインできません。一度ログイン ID を登録すると、以降はメールアドレスでサインインできます。"},
	"signin.legacy.register":      {EN: "Register your login ID", JA: "ログイン ID を登録する"},
	"signin.legacy.nothere":       {EN: "Login IDs do not sign in to the Customer Hub. Enter the email address of your account.", JA: "カスタマーハブにはログイン ID ではサインインできません。アカウントのメールアドレスを入力してください。"},
	"signin.legacy.retired":       {EN: "Login IDs no longer sign in. Enter the email address of your account.", JA: "ログイン ID ではサインインできなくなりました。アカウントのメールアドレスを入力してください。"},
	"signin.legacy.ask":           {EN: "If you do not know which address your account uses, ask the helpdesk: %s", JA: "アカウントのメールアドレスがわからない場合は、ヘルプデスクにお問い合わせください: %s"},
	"signin.legacy.askadmin":      {EN: "If you do not know which address your account uses, ask your organization's administrator.", JA: "アカウントのメールアドレスがわからない場合は、組織の管理者にお問い合わせください。"},
	"signin.org.title":            {EN: "Choose an organization", JA: "組織を選択"},
	"signin.org.intro":            {EN: "You belong to several organizations that use this service. Choose the one you act for in this sign-in; you can change it the next time the service asks.", JA: "このサービスを利用している複数の組織に所属しています。今回のサインインで利用する組織を選んでください。次にサービスから求められたときに変更できます。"},
	"signin.org.refused.title":    {EN: "This organization cannot be used", JA: "この組織は利用できません"},
	"signin.org.hint.notmember":   {EN: "The service asked to sign you in for the organization “%s”, but you are not a member of it.", JA: "サービスは組織「%s」としてのサインインを求めましたが、あなたはこの組織のメンバーではありません。"},
	"signin.org.hint.notentitled": {EN: "The service asked to sign you in for the organization “%s”, but that organization does not use this service.", JA: "サービスは組織「%s」としてのサインインを求めましたが、この組織はこのサービスを利用していません。"},
	"signin.org.refused.next":     {EN: "Nothing was changed. Go back to %s and choose another organization, or ask your organization's administrator.", JA: "何も変更されていません。%s に戻って別の組織を選ぶか、組織の管理者にお問い合わせください。"},
	"logout.title":                {EN: "Sign out", JA: "サインアウト"},
	"logout.confirm":              {EN: "Do you want to sign out of the Customer Hub on this device?", JA: "この端末でカスタマーハブからサインアウトしますか？"},
	"logout.submit":               {EN: "Sign out", JA: "サインアウト"},
	"logout.cancel":               {EN: "Stay signed in", JA: "サインインしたままにする"},
	"logout.done":                 {EN: "You have been signed out.", JA: "サインアウトしました。"}}
