"""Generate koe's bundled sample (written for koe, Apache-2.0): a fictional Japanese online shop "KoeMart"
with its app, over 8 weeks. Deterministic (seeded); run `python data/sample/generate.py` to rebuild.

Planted issues: delivery delays that grow in the last three weeks, a login bug after app update 3.2 (from
week 6), and rude support agents; plus steady background themes and some PII and malformed rows."""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START = datetime(2026, 9, 28)  # a Monday; 8 weeks to 2026-11-22
WEEKS = 8

# theme -> (weekly volume multipliers, kinds, rating range, ja sentences, en sentences)
THEMES: dict[str, dict] = {
    "delivery_delay": {
        "weeks": [3, 3, 3, 3, 4, 10, 16, 22], "kinds": ["review", "social", "ticket"], "rating": (1, 2),
        "ja": ["注文してから一週間たっても商品が届かない", "配送が遅すぎる。到着予定日を過ぎても届かない",
               "お届け予定日を三日過ぎても荷物が届きません", "配送遅延がひどい。いつ届くのか連絡もない",
               "発送済みになってから全く届かない。配送状況も更新されない", "届くのが遅い。急ぎで注文したのに間に合わなかった",
               "配達が予定より五日も遅れた", "荷物がまだ届かないのですが、いつ届きますか",
               "最近配送が本当に遅い。前はもっと早く届いたのに", "追跡番号を見ても配送状況が止まったまま届かない",
               "お届け日時を指定したのに届かなかった", "配送の遅れで誕生日プレゼントが間に合わなかった"],
        "en": ["My order still has not arrived after ten days", "Delivery is very late, the package is a week overdue",
               "The parcel was supposed to arrive on Monday and it is still not here",
               "Shipping takes forever now, tracking has not updated in days"],
    },
    "login_bug": {
        "weeks": [0, 0, 0, 0, 0, 9, 12, 10], "kinds": ["review", "social", "ticket"], "rating": (1, 2),
        "ja": ["アプリを更新してからログインできない", "アップデート後、ログインしようとするとエラーになる",
               "バージョン3.2にしたらログイン画面から進めない", "アプリにログインできません。パスワードは合っています",
               "最新版のアプリでログインするとアプリが落ちる", "更新後ずっとログインエラーが出て買い物ができない",
               "ログインできなくなった。再インストールしてもだめ", "アプリのアップデートでログインができなくなりました"],
        "en": ["Since the app update I cannot log in", "Login fails after updating to version 3.2",
               "The new app version crashes every time I try to sign in"],
    },
    "rude_support": {
        "weeks": [3, 3, 4, 3, 4, 5, 6, 6], "kinds": ["ticket", "social", "review"], "rating": (1, 2),
        "ja": ["サポートの対応が失礼だった", "問い合わせたらオペレーターの態度が横柄で不愉快でした",
               "電話窓口の担当者の言い方がひどい", "カスタマーサポートに冷たくあしらわれた",
               "問い合わせ窓口の対応が最悪。二度と利用しない", "チャットサポートの担当者が失礼な態度だった",
               "サポートに電話したら面倒くさそうに対応された", "オペレーターに話を遮られて不愉快だった"],
        "en": ["The support agent was rude to me", "Customer service was unhelpful and condescending",
               "The agent on the phone was impatient and rude"],
    },
    "support_wait": {
        "weeks": [3, 3, 3, 3, 3, 3, 3, 3], "kinds": ["ticket", "social"], "rating": (1, 3),
        "ja": ["問い合わせの返信が三日たっても来ない", "電話がまったくつながらない", "チャットの待ち時間が長すぎる",
               "問い合わせフォームから連絡したが返事がない", "サポートに何度連絡しても回答がない"],
        "en": ["I emailed support three days ago and got no reply", "Waited on hold for an hour"],
    },
    "damaged_package": {
        "weeks": [2, 3, 2, 3, 2, 3, 2, 3], "kinds": ["review", "ticket"], "rating": (1, 2),
        "ja": ["届いた商品の箱がつぶれていて中身が破損していた", "梱包が雑で商品に傷がついていた",
               "届いたお皿が割れていました", "外箱がボロボロで商品が壊れていた", "緩衝材が入っておらず商品が破損"],
        "en": ["The item arrived broken, the box was crushed", "Poor packaging, the product was damaged"],
    },
    "payment_error": {
        "weeks": [2, 2, 2, 3, 2, 2, 2, 2], "kinds": ["ticket", "review", "social"], "rating": (1, 2),
        "ja": ["決済画面でエラーが出て購入できない", "クレジットカード決済が何度やっても失敗する",
               "クーポンを使おうとしたら決済エラーになった", "支払い方法の選択でエラーになり注文できない",
               "カートに入れた商品が購入できない"],
        "en": ["Checkout fails with a payment error", "My credit card keeps getting declined at checkout"],
    },
    "coupon": {
        "weeks": [2, 2, 2, 2, 2, 2, 2, 2], "kinds": ["review", "social"], "rating": (2, 3),
        "ja": ["クーポンが適用されない", "キャンペーンのクーポンコードが使えなかった", "ポイントが付与されていない",
               "セール価格が反映されない"],
        "en": ["The coupon code does not work", "Promo code was not applied to my order"],
    },
    "price_high": {
        "weeks": [2, 2, 2, 2, 2, 2, 2, 2], "kinds": ["review", "social"], "rating": (2, 3),
        "ja": ["他のサイトと比べて値段が高い", "送料が高すぎて購入をためらう", "価格が高いので他社と比較して迷っている",
               "商品説明が少なくてサイズが分かりにくい", "商品ページの情報が少なくて比較しにくい"],
        "en": ["Prices are higher than other shops", "Shipping fee is too expensive"],
    },
    "ads": {
        "weeks": [1, 2, 1, 2, 1, 2, 1, 2], "kinds": ["social"], "rating": (2, 3),
        "ja": ["広告がしつこい。何度も同じ広告が表示される", "SNSの広告が多すぎてうんざり", "動画広告が毎回出てきて邪魔"],
        "en": ["Your ads are everywhere, way too many of them"],
    },
    "cancel_hard": {
        "weeks": [1, 2, 1, 2, 2, 1, 2, 2], "kinds": ["ticket", "review", "social"], "rating": (1, 2),
        "ja": ["定期便の解約方法が分かりにくい", "会員の退会手続きが面倒すぎる", "サブスクを解約したいのにページが見つからない",
               "解約したのに翌月も請求された"],
        "en": ["Cancelling the subscription is way too hard", "I was charged again after cancelling"],
    },
    "praise": {
        "weeks": [6, 6, 6, 6, 6, 5, 5, 5], "kinds": ["review", "social"], "rating": (4, 5),
        "ja": ["商品の品質がとても良くて満足しています", "デザインが素敵で気に入りました", "使いやすくて家族にもおすすめしたい",
               "思っていたより質が良くてリピートします", "素材がしっかりしていて大満足です", "サイズもぴったりで最高です"],
        "en": ["Great quality, very happy with it", "Love the design, will buy again"],
    },
    "praise_support": {
        "weeks": [2, 2, 2, 2, 2, 2, 2, 2], "kinds": ["ticket", "review"], "rating": (4, 5),
        "ja": ["サポートの方が丁寧に対応してくれて助かりました", "問い合わせへの返信が早くて安心しました",
               "オペレーターの説明がわかりやすかったです"],
        "en": ["Support was quick and friendly, thank you"],
    },
}

PREFIXES_JA = ["", "", "", "正直、", "またです。", "初めて利用しましたが、", "いつも利用していますが、", "困っています。"]
SUFFIXES_JA = ["", "", "", "。", "！", "。改善してください。", "。早く対応してほしい。", "。残念です。", "😡", "(´;ω;`)"]
SUFFIXES_POS_JA = ["", "。", "！", "♪", "😊", "。また買います。"]
SUFFIXES_EN = ["", ".", "!", ". Please fix this.", ". Not happy.", " :("]
PRODUCTS = ["KM-ケトル", "KM-タオルセット", "KM-マグカップ", "KM-リュック", "KM-スニーカー", "KM-お皿セット"]
PLATFORMS = ["x", "instagram", "line"]
CHANNELS_JA = ["メール", "チャット", "電話", "お問い合わせフォーム"]
PII = ["連絡先は taro.yamada@example.com です", "電話番号は090-1234-5678です", "折り返しは03-5555-0123まで",
       "カード番号4111 1111 1111 1111で決済しました", "mail me at jane.doe@example.org",
       "call me on +1 415-555-0199", "〒150-0001 に住んでいます"]


def _sentence(rng: random.Random, theme: dict, lang: str) -> str:
    base = rng.choice(theme[lang])
    positive = theme["rating"][0] >= 4
    if lang == "ja":
        suffix = rng.choice(SUFFIXES_POS_JA if positive else SUFFIXES_JA)
        text = rng.choice(PREFIXES_JA if not positive else [""]) + base + suffix
    else:
        text = base + rng.choice(["", ".", "!"] if positive else SUFFIXES_EN)
    if rng.random() < 0.04:
        text += ("。" if lang == "ja" else ". ") + rng.choice(PII)
    return text


def generate(seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {"review": [], "social": [], "ticket": []}
    for name, theme in THEMES.items():
        for week, mult in enumerate(theme["weeks"]):
            for _ in range(mult * 2):
                kind = rng.choice(theme["kinds"])
                lang = "en" if rng.random() < 0.22 else "ja"
                when = START + timedelta(days=week * 7 + rng.randrange(7), hours=rng.randrange(8, 23),
                                         minutes=rng.randrange(60))
                rows[kind].append({"theme": name, "when": when, "text": _sentence(rng, theme, lang),
                                   "rating": rng.randint(*theme["rating"]), "lang": lang})
    for kind in rows:
        rows[kind].sort(key=lambda r: (r["when"], r["text"]))
    return rows


APP_VERSIONS = ["3.0.4", "3.1.2", "3.2.0"]


def _app_segments(seg_rng: random.Random, theme: str) -> tuple[str, str]:
    """The app version and device a review was written from (segments): the planted login bug lives in app
    3.2.0, mostly on Android; everything else is spread evenly. A separate generator (seg_rng), so the rest of
    the sample does not change."""
    if theme == "login_bug" and seg_rng.random() < 0.9:
        return "3.2.0", "Android" if seg_rng.random() < 0.8 else "iOS"
    return seg_rng.choice(APP_VERSIONS), seg_rng.choice(["iOS", "Android"])


def write_reviews(rows: list[dict], rng: random.Random) -> None:
    seg_rng = random.Random(29)
    with open(HERE / "reviews.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "posted_at", "stars", "product", "review_text", "shop_reply", "app_version",
                    "device"])
        for i, r in enumerate(rows, start=1):
            # the shop has answered some reviews already: they need no follow-up
            w.writerow([f"R{i:05d}", r["when"].strftime("%Y-%m-%d %H:%M"), r["rating"], rng.choice(PRODUCTS),
                        r["text"], "返信済み" if i % 4 == 0 else "未返信", *_app_segments(seg_rng, r["theme"])])
        # malformed rows, on purpose: each must end up in quarantine with a reason
        w.writerow(["R90001", "2026-11-20 10:00", 1, "KM-ケトル", "余計な列", "がある行", "未返信", "3.1.2", "iOS"])
        w.writerow(["R90002", "2026-11-20 11:00", 5, "KM-ケトル", "   ", "未返信", "3.1.2", "iOS"])
        w.writerow(["R90003", "昨日の夜", 2, "KM-ケトル", "日付が読めない行です", "未返信", "3.1.2", "iOS"])
        w.writerow(["R90004", "2026-11-21 09:00", 7, "KM-ケトル", "星が7つの行", "未返信", "3.1.2", "iOS"])


def write_social(rows: list[dict], rng: random.Random) -> None:
    with open(HERE / "social.jsonl", "w", encoding="utf-8") as fh:
        for i, r in enumerate(rows, start=1):
            handle = f"user_{rng.randrange(10_000):04d}"
            text = r["text"] if r["lang"] == "ja" else f"@KoeMart {r['text']}"
            obj = {"post_id": f"S{i:05d}", "created": r["when"].strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                   "user": handle, "platform": rng.choice(PLATFORMS), "body": text,
                   "followers": rng.randrange(10, 5000), "likes": rng.randrange(0, 50)}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        fh.write('{"post_id": "S99999", "created": "2026-11-21T10:00:00+09:00", "body": "途中で切れた行\n')


def write_tickets(rows: list[dict], rng: random.Random) -> None:
    # an Excel export from a Japanese help desk: CP932, Japanese headers, Japanese date format
    with open(HERE / "tickets_sjis.csv", "w", encoding="cp932", newline="", errors="replace") as fh:
        w = csv.writer(fh)
        w.writerow(["問い合わせ番号", "受付日時", "件名", "本文", "チャネル", "初回回答日時", "解決日時", "対応回数",
                    "再オープン", "顧客ID", "満足度"])
        for i, r in enumerate(rows, start=1):
            text = "".join(ch for ch in r["text"] if ord(ch) < 0x10000 and ch.encode("cp932", "ignore"))
            created = r["when"]
            bad = r["rating"] <= 2
            first = created + timedelta(hours=rng.uniform(1, 30 if bad else 8))
            resolved = first + timedelta(hours=rng.uniform(2, 90 if bad else 20))
            unresolved = bad and rng.random() < 0.15
            w.writerow([
                f"T{i:05d}", f"{created.year}年{created.month}月{created.day}日 {created:%H:%M}",
                text[:14], text, rng.choice(CHANNELS_JA), first.strftime("%Y/%m/%d %H:%M"),
                "" if unresolved else resolved.strftime("%Y/%m/%d %H:%M"),
                rng.choice([1, 2, 3]) if bad else 1, "はい" if bad and rng.random() < 0.3 else "いいえ",
                f"C{rng.randrange(1000):04d}", r["rating"] if rng.random() < 0.6 else "",
            ])
        w.writerow(["T99001", "", "日付なし", "受付日時が空の行です", "メール", "", "", 1, "いいえ", "C0001", ""])
        # abusive customers (カスハラ): counted per stage, never quoted in the report
        abuse_rng = random.Random(17)
        for j, text in enumerate(ABUSIVE_TICKETS, start=1):
            created = START + timedelta(days=abuse_rng.randrange(WEEKS * 7), hours=abuse_rng.randrange(9, 21))
            first = created + timedelta(hours=abuse_rng.uniform(1, 8))
            w.writerow([f"T8{j:04d}", f"{created.year}年{created.month}月{created.day}日 {created:%H:%M}", text[:14],
                        text, "電話", first.strftime("%Y/%m/%d %H:%M"),
                        (first + timedelta(hours=6)).strftime("%Y/%m/%d %H:%M"), 2, "いいえ",
                        f"C{abuse_rng.randrange(1000):04d}", 1])


ABUSIVE_TICKETS = [
    "荷物がまだ届かない。ふざけんな、責任者を出せ", "担当者はバカなのか。何度説明させるんだ",
    "お前らは給料泥棒か。配送が遅すぎる", "返金しないならネットに晒してやるからな",
    "オペレーターが無能すぎる。役立たずにもほどがある", "土下座して謝れ。こっちは客だぞ",
    "配送が遅れたら訴えてやる。覚えておけ", "Your agents are idiots, my parcel is two weeks late",
]
COMPETITOR_POSTS = [
    "ショピラの方が送料が安いからそっちで買う", "ミセマートは翌日に届いたのにKoeMartは一週間かかった",
    "ショピラのアプリの方がログインが簡単", "MiseMart delivered next day, KoeMart took a week",
    "Switched to Shopira, their shipping is cheaper", "ミセマートのセールの方がお得だった",
    "コエマートのポイントはショピラより貯まりやすい", "KoeMart support answered fast, better than MiseMart",
]


def write_competitor_posts() -> None:
    """Social listening: posts that name the shop and its competitors, appended to the social file."""
    rng = random.Random(19)
    with open(HERE / "social.jsonl", "a", encoding="utf-8") as fh:
        for j, text in enumerate(COMPETITOR_POSTS * 2, start=1):
            when = START + timedelta(days=rng.randrange(WEEKS * 7), hours=rng.randrange(8, 23))
            obj = {"post_id": f"S7{j:04d}", "created": when.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                   "user": f"user_{rng.randrange(10_000):04d}", "platform": rng.choice(PLATFORMS), "body": text,
                   "followers": rng.randrange(10, 5000), "likes": rng.randrange(0, 50)}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


# survey themes: (share of commented answers, NPS range) — detractors write about the planted issues
SURVEY_THEMES = {"delivery_delay": (0, 6), "login_bug": (0, 5), "damaged_package": (1, 6), "payment_error": (2, 6),
                 "support_wait": (0, 6), "rude_support": (0, 4), "praise": (9, 10), "price_high": (5, 8)}


def write_surveys() -> None:
    """Post-purchase NPS survey and an after-support CSAT/CES survey (UTF-8, Japanese headers); four in ten answers
    have no comment. Detractors' comments follow the planted issues, so their NPS impact is known in advance."""
    rng = random.Random(23)
    themes = list(SURVEY_THEMES)
    with open(HERE / "surveys.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["回答ID", "回答日時", "タッチポイント", "NPS", "満足度", "CES", "コメント", "顧客ID", "対応状況"])
        for i in range(1, 241):
            week = rng.randrange(WEEKS)  # answers spread evenly: only the themes' own trends move shares
            when = START + timedelta(days=week * 7 + rng.randrange(7), hours=rng.randrange(8, 23))
            after_support = rng.random() < 0.3
            weights = [THEMES[t]["weeks"][week] + 1 for t in themes]
            theme = rng.choices(themes, weights=weights)[0]
            low, high = SURVEY_THEMES[theme]
            commented = rng.random() < 0.6
            nps = rng.randint(low, high) if commented else rng.choice([10, 10, 9, 9, 8, 8, 7, 6, 5, 3])
            text = _sentence(rng, THEMES[theme], "ja" if rng.random() < 0.85 else "en") if commented else ""
            csat = ("" if not after_support else max(1, min(5, round(1 + nps * 0.4 + rng.uniform(-0.5, 0.5)))))
            ces = ("" if not after_support else max(1, min(7, round(1 + nps * 0.6 + rng.uniform(-1, 1)))))
            answered = "対応済み" if nps <= 6 and rng.random() < 0.3 else ""
            w.writerow([f"Q{i:05d}", when.strftime("%Y/%m/%d %H:%M"), "サポート後アンケート" if after_support
                        else "購入後アンケート", nps, csat, ces, text, f"C{rng.randrange(1000):04d}", answered])
        w.writerow(["Q99001", "2026/11/20 10:00", "購入後アンケート", 11, "", "", "NPSが11の行", "C0001", ""])


def main() -> None:
    rng = random.Random(11)
    rows = generate()
    write_reviews(rows["review"], rng)
    write_social(rows["social"], rng)
    write_tickets(rows["ticket"], rng)
    write_competitor_posts()
    write_surveys()
    print({k: len(v) for k, v in rows.items()})


if __name__ == "__main__":
    main()
