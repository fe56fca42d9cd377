package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
)

// msg returns the catalogue's message for key in lang, formatted with
// args. A missing key shows as the key itself (and fails the tests).
func msg(lang, key string, args ...any) string {
	m, ok := findMessage(lang, key, args)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Helpers for the templates, in the page's language.

// L picks a manifest label's text in the page's language.
func (v *view) L(t ballot.Text) string { return t.In(v.Lang) }

// Num writes a whole number with thousands separators.
func (v *view) Num(n any) string {
	var s string
	switch n := n.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case uint64:
		s = strconv.FormatUint(n, 10)
	default:
		s = fmt.Sprint(n)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Pct writes a percentage with one decimal.
func (v *view) Pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + "%" }

// Dec writes a number with two decimals.
func (v *view) Dec(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// F writes a coordinate.
func (v *view) F(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// Ints lists numbers.
func (v *view) Ints(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func (v *view) loc() *time.Location {
	if v.site != nil {
		return v.site.opts.Location
	}
	return time.UTC
}

// Time writes a time to the second in the site's time zone.
func (v *view) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.loc()).Format("2006-01-02 15:04:05 MST")
}

// ISO writes a time for a <time datetime> attribute.
func (v *view) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// RFC3339 writes a manifest's RFC 3339 time in the site's time zone.
func (v *view) RFC3339(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(v.loc()).Format("2006-01-02 15:04 MST")
}

// Date writes a manifest's RFC 3339 time as a resident reads it, in the
// site's time zone: 2026年12月20日 17:00 or 20 December 2026, 17:00.
func (v *view) Date(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	t = t.In(v.loc())
	return t.Format(dateLayouts[v.Lang].date)
}

// Bucket writes the start of a turnout bucket: an hour or a day.
func (v *view) Bucket(t time.Time, perDay bool) string {
	t = t.In(v.loc())
	if perDay {
		return t.Format(dateLayouts[v.Lang].day)
	}
	return t.Format(dateLayouts[v.Lang].hour)
}

// State names an election state.
func (v *view) State(s string) string { return v.T("state." + s) }

// StateHelp says what an election state means.
func (v *view) StateHelp(s string) string { return v.T("statehelp." + s) }

// Kind names an election kind (vote or survey).
func (v *view) Kind(k string) string { return v.T("kind." + k) }

// QuestionKind describes how a question is answered.
func (v *view) QuestionKind(q ballot.Question) string {
	switch q.Kind {
	case ballot.KindSingle:
		if q.Optional {
			return v.T("qkind.single.optional")
		}
		return v.T("qkind.single")
	case ballot.KindMultiple:
		return v.T("qkind.multiple", q.Min, q.Max)
	case ballot.KindRating:
		return v.T("qkind.rating", q.Min, q.Max)
	}
	return q.Kind
}

type headView struct {
	V    *view
	Info *api.ElectionInfo
}

type navView struct {
	V           *view
	ID, Current string
}

// Head is the argument of the "electionhead" template.
func (v *view) Head(in *api.ElectionInfo) headView { return headView{v, in} }

// Nav is the argument of the "electionnav" template.
func (v *view) Nav(id, current string) navView { return navView{v, id, current} }

// addMessages adds a part of the site's messages (a page's own file keeps
// its own) to the catalogue; a key defined twice is a programming error.
func addMessages(m map[string]map[string]string) {
	for lang, keys := range m {
		for k, v := range keys {
			if goMessages[lang] == nil {
				goMessages[lang] = map[string]string{}
			}
			goMessages[lang][k] = v
			if fromFile[lang][k] {
				continue // the catalogue file's message wins (locales.go)
			}
			if _, dup := catalogue[lang][k]; dup {
				panic("web: message " + k + " defined twice")
			}
			catalogue[lang][k] = v
		}
	}
}

// catalogue holds every string of the pages: the catalogue files'
// (locales.go) and, for keys not yet in a file, these Go maps'.
var catalogue = withLocales(map[string]map[string]string{
	"ja": {
		"site.name":         "koe 声 — 検証できる電子投票",
		"site.tagline":      "検証できる電子投票",
		"skip":              "本文へ移動",
		"nav.label":         "サイト",
		"nav.elections":     "投票・アンケート一覧",
		"nav.help":          "ヘルプ",
		"textsize.large":    "文字を大きく",
		"textsize.normal":   "文字を標準に",
		"help.title":        "ヘルプ — 回答・投票のしかた",
		"help.intro":        "このページでは、お知らせのコードの使い方、回答がどう扱われるか、受付票の確かめ方を説明します。",
		"help.letter.h":     "お知らせとコード",
		"help.letter.p":     "市から届くお知らせには、あなたの番号（選挙人番号、アンケートでは整理番号）と16文字のワンタイムコードが書かれています。コードで本人確認できるのは一度だけです。他の人に見せないでください。お知らせをなくしたときは、お知らせに書かれた問い合わせ先に連絡してください。",
		"help.answers.h":    "回答はどう扱われるか",
		"help.answers.p1":   "番号とコードで本人確認をすると、あなたの端末に、名前を含まない「回答用の鍵」（資格情報）が作られます。回答はあなたの端末の中で暗号化され、この鍵で送られます。誰が本人確認をしたかの記録と、届いた回答とは別々に保管され、結びつける手がかりは残りません。",
		"help.answers.p2":   "選択式の質問は暗号化されたまま集計され、合計だけが、複数の鍵管理者（受託者）がそろったときに復号されます。自由記述と順位の回答は、鍵管理者が順番にシャッフル（混合）してから復号するので、誰の回答か分からない形で公開されます。どの段階も公開掲示板に記録され、誰でも結果を検証できます。",
		"help.answers.text": "自由記述は書いたとおりに公開されます。名前、住所、電話番号など、個人が分かることは書かないでください。",
		"help.shared.h":     "家族などで1台の端末を使うとき",
		"help.shared.p":     "一人ひとりが自分のお知らせのコードで登録してください。端末は登録した人ごとに資格情報を保存し、開くたびに誰が回答するかを尋ねます。回答の途中の内容は、そのタブを閉じると端末から消えます。",
		"help.revote.h":     "回答し直すとき",
		"help.revote.p":     "締切までは何度でも回答し直せます。最後の回答だけが集計されます。回答し直したことは公開掲示板で分かります。",
		"help.receipt.h":    "受付票と追跡コード",
		"help.receipt.p1":   "送信すると、受付票と追跡コードが表示されます。「受付票の確認」ページで追跡コードを入力すると、あなたの暗号化された回答が公開掲示板にあることを確かめられます。追跡コードから回答の内容は分かりません。",
		"help.receipt.p2":   "受付が終わってから、回答に使った端末で回答ページを開くと、保存された受付票を最終の掲示板と照らし合わせて確かめます。",
		"help.size.h":       "文字の大きさ",
		"help.size.p":       "画面上部の「文字を大きく」で、すべてのページの文字を大きくできます。ブラウザーやスマートフォンの拡大機能も使えます。",
		"help.trouble.h":    "困ったとき",
		"help.trouble.p":    "番号やコードが受け付けられないときは、お知らせに書かれたとおりに入力してください。全角・半角、大文字・小文字、ハイフンの有無は区別しません。それでも解決しないときは、お知らせに書かれた問い合わせ先に連絡してください。",
		"nav.verify":        "検証のしかた",
		"nav.election":      "この投票のページ",
		"nav.overview":      "概要",
		"nav.results":       "結果",
		"nav.board":         "公開掲示板",
		"lang.label":        "言語",
		"footer":            "koe はオープンソースの検証可能な電子投票システムです。回答は端末で暗号化され、暗号化されたまま集計され、誰でも結果を検証できます。",

		"elections.title": "投票・アンケート一覧",
		"elections.intro": "このサーバーで実施している投票とアンケートです。結果と公開掲示板は誰でも見ることができ、検証できます。",
		"elections.none":  "まだ投票・アンケートはありません。",

		"state.setup":         "準備中",
		"state.open":          "受付中",
		"state.closed":        "締切",
		"state.tallied":       "開票中",
		"state.published":     "結果公表",
		"statehelp.setup":     "受託者が鍵を生成しています。まだ投票できません。",
		"statehelp.open":      "登録と投票を受け付けています。",
		"statehelp.closed":    "受付を終了しました。まもなく集計します。",
		"statehelp.tallied":   "暗号化されたまま集計しました。受託者が合計を復号しています。",
		"statehelp.published": "結果を公表しました。誰でも検証できます。",
		"kind.vote":           "投票",
		"kind.survey":         "アンケート",

		"qkind.single":          "一つ選ぶ",
		"qkind.single.optional": "一つ選ぶ（無回答可）",
		"qkind.multiple":        "%d〜%d個選ぶ",
		"qkind.rating":          "%d〜%dの段階で評価",

		"overview.vote":        "投票する",
		"overview.answer":      "回答する",
		"overview.facts":       "概要",
		"overview.state":       "状態",
		"overview.opens":       "開始",
		"overview.closes":      "締切",
		"overview.trustees":    "受託者",
		"overview.trusteesval": "%d人（うち%d人がそろえば合計を復号できます）",
		"overview.qual":        "鍵生成に成功した受託者",
		"overview.roll":        "名簿の人数",
		"overview.issued":      "発行した投票資格",
		"overview.ballots":     "受け付けた票（再投票を含む）",
		"overview.spoiled":     "検査のため開封した票",
		"overview.entries":     "掲示板の項目数",
		"overview.questions":   "質問",
		"overview.check":       "検証する",
		"overview.checkintro":  "選挙記録をダウンロードして、すべての証明と集計を自分で確かめることができます。",

		"results.title":       "結果",
		"results.counted":     "%s票を集計しました。",
		"results.ofroll":      "名簿の%s人のうち%sです。",
		"results.verified":    "結果は受託者による復号の証明とともに公開掲示板に載っており、誰でも検証できます。",
		"results.none":        "結果はまだ公表されていません",
		"results.withheld":    "集計された回答は%s件で、%s件に届きませんでした。回答した方のプライバシーを守るため、結果は公表しません。",
		"results.withheldwhy": "これほど少ない回答の集計からは、一人ひとりの回答がわかってしまうおそれがあります。そのため受託者はこの集計を復号しません。最低件数はマニフェストで定められており、誰でも検証できます。",
		"results.blank":       "無回答",
		"results.votes":       "%s票",
		"results.barchart":    "棒グラフ：%s",
		"results.ratingchart": "平均評価：%s",
		"results.ratingmean":  "平均 %s（%d〜%d）",
		"results.ratingdesc":  "%[2]dから%[3]dの尺度で平均%[1]s",
		"results.multiple":    "最大%d個まで選べる質問です。割合は集計した票に対するもので、合計は100%%を超えることがあります。",
		"results.table":       "表：%s",
		"results.option":      "選択肢",
		"results.count":       "票数",
		"results.percent":     "割合",

		"turnout.title":     "時間ごとの投票数",
		"turnout.titleday":  "日ごとの投票数",
		"turnout.note":      "掲示板に載った票の時刻から数えています（再投票を含む）。",
		"turnout.desc":      "%[2]sから%[3]sまでに合計%[1]s票。最多は%[5]sの%[4]s票。",
		"turnout.peak":      "最多：%[2]sの%[1]s票",
		"turnout.showtable": "表で見る",
		"turnout.hour":      "時間",
		"turnout.day":       "日",
		"turnout.ballots":   "票数",
		"turnout.none":      "まだ票はありません。",

		"board.title":      "公開掲示板",
		"board.intro":      "公開掲示板は追記だけができる記録です。選挙のすべての手順（質問、鍵の生成、資格の発行、票、集計、復号、結果）がここに載り、署名付きのチェックポイントで改ざんを検出できます。",
		"board.checkpoint": "最新のチェックポイント",
		"board.cpintro":    "チェックポイントは掲示板全体のハッシュ（マークル木の根）に掲示板の鍵で署名したものです。この署名は表示の前に確認しています。",
		"board.size":       "項目数",
		"board.root":       "木のハッシュ",
		"board.origin":     "掲示板の名前",
		"board.key":        "掲示板の検証鍵",
		"board.note":       "署名付きチェックポイント（全文）",
		"board.download":   "選挙記録をダウンロード（.tar.gz）",
		"board.rawcp":      "チェックポイント（テキスト）",
		"board.entries":    "項目",
		"board.showing":    "%d番から%d番を表示（全%s項目）",
		"board.counter":    "カウンター %d",
		"board.trustee":    "受託者 %d",
		"board.pages":      "ページ",
		"board.first":      "最初",
		"board.prev":       "前へ",
		"board.next":       "次へ",
		"board.last":       "最後",
		"board.page":       "%dページ目（全%dページ）",
		"board.empty":      "掲示板はまだ空です。",

		"entry.manifest":          "質問（マニフェスト）",
		"entry.announce":          "受託者の公開鍵",
		"entry.deal":              "鍵の分配",
		"entry.verdict":           "分配の確認",
		"entry.respond":           "異議への回答",
		"entry.election-key":      "選挙の公開鍵",
		"entry.registrar-key":     "登録者の鍵",
		"entry.roll":              "名簿の登録",
		"entry.credential-issued": "投票資格の発行",
		"entry.reissue":           "コードの再発行",
		"entry.open":              "受付開始",
		"entry.ballot":            "票",
		"entry.spoiled":           "開封した票（検査）",
		"entry.close":             "受付終了",
		"entry.tally":             "暗号化されたままの集計",
		"entry.decryption":        "受託者の部分復号",
		"entry.mix":               "自由記述・順位の混合（シャッフル）の一部",
		"entry.mix-decryption":    "混合した回答の受託者による部分復号の一部",
		"entry.results":           "結果",

		"lookup.title":     "追跡コードを確認する",
		"lookup.label":     "追跡コード",
		"lookup.hint":      "投票のときに受け取った控えの追跡コード（4文字ごとにハイフンで区切られた英数字）を入力してください。",
		"lookup.submit":    "確認する",
		"lookup.malformed": "追跡コードの形式が正しくありません。控えに書かれたとおりに入力してください（大文字・小文字とハイフンは区別しません）。",
		"lookup.notfound":  "この追跡コードの票は掲示板にありません。入力を確かめてください。それでも見つからない場合は、選挙管理者に連絡してください。",
		"lookup.ok":        "この票は掲示板に載っており、包含証明を確認しました。",
		"lookup.bad":       "この票の包含証明を確認できませんでした。選挙管理者と監査人に知らせてください。",
		"lookup.tracking":  "追跡コード",
		"lookup.index":     "掲示板の番号",
		"lookup.time":      "受付時刻",
		"lookup.counter":   "カウンター",
		"lookup.proof":     "包含証明",
		"lookup.proofval":  "%d個のハッシュで、%s項目の木に含まれることを証明",
		"lookup.failure":   "失敗の理由",
		"lookup.revote":    "再投票した場合は、最後の票だけが集計されます。",

		"verify.title":           "検証のしかた",
		"verify.intro":           "koe では、運営者を信頼しなくても、誰でも選挙全体を検証できます。選挙記録（公開掲示板の全項目と、そこから導かれるファイル）をダウンロードし、独立した検証プログラムですべての証明と集計を確かめます。",
		"verify.run":             "koe verify を実行する",
		"verify.install":         "Go（1.26 以降）で koe をインストールします。",
		"verify.fetch":           "サーバーから選挙記録を取得して検証します。",
		"verify.offline":         "または、ダウンロードした選挙記録をオフラインで検証します。",
		"verify.result":          "すべての検査に合格すると、記録は有効です。失敗した検査があれば、何がどこで失敗したかを表示します。",
		"verify.checks":          "何を確かめるか",
		"verify.c.manifest":      "質問（マニフェスト）が規則どおりであること。そのハッシュがすべての証明に結び付けられています。",
		"verify.c.ceremony":      "受託者の鍵生成：すべての証明が正しく、しきい値以上の受託者が成功し、選挙の公開鍵がそこから導かれること。",
		"verify.c.board":         "掲示板：チェックポイントの署名が掲示板の鍵で正しく、全項目のマークル木のハッシュがチェックポイントと一致し、記録のファイルが掲示板の項目と一致すること。",
		"verify.c.lifecycle":     "手順の順序：鍵の生成、受付開始、票、受付終了、集計、復号、結果が正しい順に一度ずつ載っていること。投票資格は一人一回で、票を投じた資格の数は発行した数以下であること。",
		"verify.c.ballots":       "集計された各票：投票資格の署名が正しく、暗号文が有効な回答であることの証明が正しいこと。同じ票や暗号文の使い回しがないこと。再投票では最後の票だけが集計されること。",
		"verify.c.spoiled":       "検査のために開封した票：開示した乱数で暗号化が正しかったこと、集計された票と重ならないこと。",
		"verify.c.tally":         "暗号化されたままの集計が、集計された票の暗号文の合計と一致すること。",
		"verify.c.decryption":    "各受託者の部分復号の証明が正しく、しきい値以上そろっていること。",
		"verify.c.results":       "公表された結果が、復号した合計と一致すること。",
		"verify.receipt":         "自分の票を確かめる",
		"verify.receipttext":     "投票すると追跡コードと包含証明の控えを受け取ります。各選挙の公開掲示板のページで追跡コードを入力すると、その票が掲示板に載っていることを署名付きチェックポイントに対して確認できます。票の中身は暗号化されたままで、誰にも見えません。",
		"verify.independent":     "独立した検証",
		"verify.independenttext": "プロトコルは SPEC.md に、独立した検証プログラムを書けるほど詳しく定められており、テストベクターも公開しています。掲示板は C2SP tlog-tiles 形式で公開しているので、標準の透明性ログのクライアントや証人も監査できます。",

		"err.home":              "投票・アンケート一覧へ戻る",
		"err.notfound.title":    "ページが見つかりません",
		"err.notfound.detail":   "お探しのページはありません。アドレスを確かめてください。",
		"err.noelection.title":  "投票が見つかりません",
		"err.noelection.detail": "「%s」という投票・アンケートはこのサーバーにありません。",
		"err.internal.title":    "エラーが発生しました",
		"err.internal.detail":   "ページを表示できませんでした。しばらくしてからもう一度お試しください。",
	},
	"en": {
		"site.name":         "koe 声 — verifiable voting",
		"site.tagline":      "verifiable voting",
		"skip":              "Skip to content",
		"nav.label":         "Site",
		"nav.elections":     "Elections and surveys",
		"nav.help":          "Help",
		"textsize.large":    "Larger text",
		"textsize.normal":   "Normal text",
		"help.title":        "Help — how to answer and vote",
		"help.intro":        "This page explains how to use the code on your letter, what happens to your answers, and how to check your receipt.",
		"help.letter.h":     "Your letter and its code",
		"help.letter.p":     "The letter from the city shows your number (a voter number, or a reference number for a survey) and a one-time code of 16 characters. The code lets you sign in once only: do not show it to anyone. If you lost your letter, contact the office named on it.",
		"help.answers.h":    "What happens to your answers",
		"help.answers.p1":   "When you sign in with your number and code, your device gets a key for answering (a credential) that holds no name. Your answers are encrypted on your device and sent with that key. The record of who signed in and the answers received are kept apart, with nothing that links them.",
		"help.answers.p2":   "Choice questions are counted while still encrypted, and only the totals are decrypted, when enough of the key holders (trustees) take part. Text and ranking answers are shuffled by the key holders in turn before they are decrypted, so they are published without anyone knowing whose they are. Every step is on the public bulletin board, so anyone can verify the result.",
		"help.answers.text": "Comments are published as written. Do not write your name, address, telephone number or anything else that identifies someone.",
		"help.shared.h":     "Sharing one device",
		"help.shared.p":     "Each person registers with the code of their own letter. The device keeps a credential for each person who registered on it and asks who is answering each time it is opened. Answers in progress are erased from the device when the tab is closed.",
		"help.revote.h":     "Answering again",
		"help.revote.p":     "You can answer again until the close; only your last answers count. That you answered again is visible on the public board.",
		"help.receipt.h":    "Your receipt and tracking code",
		"help.receipt.p1":   "Once you send your answers you get a receipt with a tracking code. On the “Check a receipt” page, the tracking code shows that your encrypted answers are on the public board. It does not reveal what you answered.",
		"help.receipt.p2":   "After the close, open the answer page on the device you used: it checks the receipt it kept against the final board.",
		"help.size.h":       "Text size",
		"help.size.p":       "“Larger text” at the top of the page makes the text of every page larger. Your browser's or phone's zoom works too.",
		"help.trouble.h":    "If something goes wrong",
		"help.trouble.p":    "If your number or code is not accepted, type them as your letter shows them: full-width or half-width, capitals or not, and dashes do not matter. If that does not help, contact the office named on your letter.",
		"nav.verify":        "How to verify",
		"nav.election":      "This election",
		"nav.overview":      "Overview",
		"nav.results":       "Results",
		"nav.board":         "Bulletin board",
		"lang.label":        "Language",
		"footer":            "koe is an open-source, verifiable voting system. Answers are encrypted on the voter's device, counted while encrypted, and anyone can check the results.",

		"elections.title": "Elections and surveys",
		"elections.intro": "The votes and surveys run on this server. Anyone can read their results and bulletin boards, and check them.",
		"elections.none":  "There are no elections or surveys yet.",

		"state.setup":         "In preparation",
		"state.open":          "Open",
		"state.closed":        "Closed",
		"state.tallied":       "Counting",
		"state.published":     "Results published",
		"statehelp.setup":     "The trustees are making the election key. Voting has not started.",
		"statehelp.open":      "Registration and voting are open.",
		"statehelp.closed":    "Voting has ended; the count comes next.",
		"statehelp.tallied":   "The ballots were added up while encrypted; the trustees are decrypting the totals.",
		"statehelp.published": "The results are published; anyone can check them.",
		"kind.vote":           "Vote",
		"kind.survey":         "Survey",

		"qkind.single":          "Choose one",
		"qkind.single.optional": "Choose one (optional)",
		"qkind.multiple":        "Choose %d to %d",
		"qkind.rating":          "Rate from %d to %d",

		"overview.vote":        "Vote",
		"overview.answer":      "Answer the survey",
		"overview.facts":       "At a glance",
		"overview.state":       "State",
		"overview.opens":       "Opens",
		"overview.closes":      "Closes",
		"overview.trustees":    "Trustees",
		"overview.trusteesval": "%d (any %d of them together can decrypt the totals)",
		"overview.qual":        "Trustees who completed the key ceremony",
		"overview.roll":        "Voters on the roll",
		"overview.issued":      "Voting credentials issued",
		"overview.ballots":     "Ballots received (re-votes included)",
		"overview.spoiled":     "Ballots opened for checking",
		"overview.entries":     "Bulletin board entries",
		"overview.questions":   "Questions",
		"overview.check":       "Check it yourself",
		"overview.checkintro":  "Download the election record and re-check every proof and the count on your own computer.",

		"results.title":       "Results",
		"results.counted":     "%s ballots counted.",
		"results.ofroll":      " That is %[2]s of the %[1]s voters on the roll.",
		"results.verified":    "The results are on the bulletin board with the trustees' proofs of decryption; anyone can verify them.",
		"results.none":        "The results are not published yet",
		"results.withheld":    "%s answers were counted, fewer than %s: the results are withheld to protect the privacy of those who answered.",
		"results.withheldwhy": "A count of so few answers could reveal how individual people answered, so the trustees do not decrypt it. The minimum is set in the manifest, and anyone can verify it.",
		"results.blank":       "No answer",
		"results.votes":       "%s votes",
		"results.barchart":    "Bar chart: %s",
		"results.ratingchart": "Average rating: %s",
		"results.ratingmean":  "Average %s (on a scale of %d to %d)",
		"results.ratingdesc":  "An average of %s on a scale from %d to %d",
		"results.multiple":    "Up to %d choices per ballot: percentages are of the ballots counted and may add up to more than 100%%.",
		"results.table":       "Table: %s",
		"results.option":      "Option",
		"results.count":       "Votes",
		"results.percent":     "Share",

		"turnout.title":     "Ballots per hour",
		"turnout.titleday":  "Ballots per day",
		"turnout.note":      "Counted from the times of the ballots on the bulletin board (re-votes included).",
		"turnout.desc":      "%s ballots from %s to %s; the most, %s, at %s.",
		"turnout.peak":      "Busiest: %s ballots at %s",
		"turnout.showtable": "Show as a table",
		"turnout.hour":      "Hour",
		"turnout.day":       "Day",
		"turnout.ballots":   "Ballots",
		"turnout.none":      "No ballots yet.",

		"board.title":      "Bulletin board",
		"board.intro":      "The bulletin board is an append-only log. Every step of the election — the questions, the key ceremony, credentials, ballots, the tally, the decryptions and the results — is on it, and signed checkpoints make any change detectable.",
		"board.checkpoint": "Latest checkpoint",
		"board.cpintro":    "A checkpoint is the hash of the whole board (the root of its Merkle tree), signed with the board's key. This page checked the signature before showing it.",
		"board.size":       "Entries",
		"board.root":       "Tree hash",
		"board.origin":     "Board name",
		"board.key":        "Board verifier key",
		"board.note":       "The signed checkpoint in full",
		"board.download":   "Download the election record (.tar.gz)",
		"board.rawcp":      "Checkpoint (text)",
		"board.entries":    "Entries",
		"board.showing":    "Entries %d to %d of %s",
		"board.counter":    "counter %d",
		"board.trustee":    "Trustee %d",
		"board.pages":      "Pages",
		"board.first":      "First",
		"board.prev":       "Previous",
		"board.next":       "Next",
		"board.last":       "Last",
		"board.page":       "Page %d of %d",
		"board.empty":      "The board is empty.",

		"entry.manifest":          "Questions (manifest)",
		"entry.announce":          "Trustee's public key",
		"entry.deal":              "Key shares dealt",
		"entry.verdict":           "Shares checked",
		"entry.respond":           "Answers to complaints",
		"entry.election-key":      "Election key",
		"entry.registrar-key":     "Registrar's key",
		"entry.roll":              "Voter roll",
		"entry.credential-issued": "Credential issued",
		"entry.reissue":           "Code re-issued",
		"entry.open":              "Voting opened",
		"entry.ballot":            "Ballot",
		"entry.spoiled":           "Ballot opened for checking",
		"entry.close":             "Voting closed",
		"entry.tally":             "Encrypted tally",
		"entry.decryption":        "Trustee's partial decryption",
		"entry.mix":               "Part of a mix (shuffle) of text and rank answers",
		"entry.mix-decryption":    "Part of a trustee's decryption of the mixed answers",
		"entry.results":           "Results",

		"lookup.title":     "Look up a tracking code",
		"lookup.label":     "Tracking code",
		"lookup.hint":      "The tracking code on the receipt you got when you voted: letters and digits in groups of four.",
		"lookup.submit":    "Look up",
		"lookup.malformed": "That is not a tracking code. Type it as it is on your receipt (case and dashes do not matter).",
		"lookup.notfound":  "No ballot with this tracking code is on the board. Check what you typed; if it is still missing, tell the election's administrator.",
		"lookup.ok":        "This ballot is on the board, and its inclusion proof checks out.",
		"lookup.bad":       "This ballot's inclusion proof does not check out. Please tell the election's administrator and auditors.",
		"lookup.tracking":  "Tracking code",
		"lookup.index":     "Board entry",
		"lookup.time":      "Received",
		"lookup.counter":   "Counter",
		"lookup.proof":     "Inclusion proof",
		"lookup.proofval":  "%d hashes, proving it is in the tree of %s entries",
		"lookup.failure":   "What failed",
		"lookup.revote":    "If you voted again, only your last ballot is counted.",

		"verify.title":           "How to verify",
		"verify.intro":           "With koe anyone can check a whole election without trusting its operator: download the election record (every bulletin board entry and the files that follow from them) and let an independent verifier re-check every proof and the count.",
		"verify.run":             "Run koe verify",
		"verify.install":         "Install koe with Go (1.26 or later).",
		"verify.fetch":           "Fetch the election record from the server and verify it.",
		"verify.offline":         "Or verify a downloaded election record offline.",
		"verify.result":          "The record is valid if every check passes; otherwise the verifier says what failed, and where.",
		"verify.checks":          "What it checks",
		"verify.c.manifest":      "The questions (the manifest) follow the rules; their hash is bound into every proof.",
		"verify.c.ceremony":      "The trustees' key ceremony: every proof holds, at least the threshold of trustees succeeded, and the election key follows from them.",
		"verify.c.board":         "The board: the checkpoint is signed with the board's key, the Merkle tree hash of all entries is the checkpoint's, and the record's files are exactly what the entries say.",
		"verify.c.lifecycle":     "The order of events: ceremony, opening, ballots, closing, tally, decryptions and results, each in its place; one credential per voter, and no more credentials cast than issued.",
		"verify.c.ballots":       "Every counted ballot: its credential's signature holds, and its proofs show it encrypts a valid answer; no ballot or ciphertext is reused; with re-votes, only the last ballot counts.",
		"verify.c.spoiled":       "Ballots opened for checking: the revealed randomness shows they were encrypted correctly, and none of them is counted.",
		"verify.c.tally":         "The encrypted tally is the sum of the counted ballots' ciphertexts.",
		"verify.c.decryption":    "Each trustee's partial decryption is proven correct, and at least the threshold of them are there.",
		"verify.c.results":       "The published results are the decrypted totals.",
		"verify.receipt":         "Check your own ballot",
		"verify.receipttext":     "When you vote you get a receipt with a tracking code and an inclusion proof. Enter the tracking code on the election's bulletin board page to check that your ballot is on the board, against a signed checkpoint. What you answered stays encrypted; nobody can read it.",
		"verify.independent":     "Independent verification",
		"verify.independenttext": "SPEC.md specifies the protocol precisely enough to write an independent verifier, with test vectors. The board is also served in the C2SP tlog-tiles layout, so standard transparency-log clients and witnesses can audit it.",

		"err.home":              "Back to the elections and surveys",
		"err.notfound.title":    "Page not found",
		"err.notfound.detail":   "There is no page at this address. Please check it.",
		"err.noelection.title":  "Election not found",
		"err.noelection.detail": "There is no election or survey %q on this server.",
		"err.internal.title":    "Something went wrong",
		"err.internal.detail":   "The page could not be shown. Please try again in a moment.",
	},
})

// formView is the argument of the "ballotform" template.
type formView struct {
	V        *view
	M        *ballot.Manifest
	Prefix   string // before every element id, to put two forms on a page
	Disabled bool
}

// Form is the argument of the "ballotform" template for m.
func (v *view) Form(m *ballot.Manifest, prefix string, disabled bool) formView {
	return formView{V: v, M: m, Prefix: prefix, Disabled: disabled}
}

// Span lists the whole numbers lo..hi.
func (v *view) Span(lo, hi int) []int {
	out := make([]int, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, n)
	}
	return out
}

// ScaleEnd writes, after the lowest and the highest point of a rating
// scale, what it means (for screen readers, which skip the visual ends).
func (v *view) ScaleEnd(q ballot.Question, n int) string {
	switch {
	case n == q.Min && q.MinLabel != nil:
		return " (" + v.L(*q.MinLabel) + ")"
	case n == q.Max && q.MaxLabel != nil:
		return " (" + v.L(*q.MaxLabel) + ")"
	}
	return ""
}

// Rule says how a question is answered.
func (v *view) Rule(q ballot.Question) string {
	switch q.Kind {
	case ballot.KindSingle:
		if q.Optional {
			return v.T("form.rule.single.optional")
		}
		return v.T("form.rule.single")
	case ballot.KindMultiple:
		if q.Min == q.Max {
			return v.T("form.rule.multiple.exact", q.Min)
		}
		if q.Min == 0 {
			return v.T("form.rule.multiple.upto", q.Max)
		}
		return v.T("form.rule.multiple", q.Min, q.Max)
	case ballot.KindRating:
		return v.T("form.rule.rating", q.Min, q.Max)
	case ballot.KindText:
		if q.Optional {
			return v.T("form.rule.text.optional", q.MaxLength)
		}
		return v.T("form.rule.text", q.MaxLength)
	case ballot.KindRank:
		if q.Min == 0 {
			return v.T("form.rule.rank.upto", q.RankMax())
		}
		return v.T("form.rule.rank", q.Min, q.RankMax())
	}
	return ""
}
