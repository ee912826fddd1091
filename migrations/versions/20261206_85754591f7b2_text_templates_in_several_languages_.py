"""text templates in several languages, translations awaiting review

Each text gets a row per language: English (the text itself), and translations into Welsh and the main
languages other than English most spoken in Sheffield (docs/languages.md), each awaiting review by a
translator. People's languages written as names (from the interpreter outcome) become ISO 639-1 codes.

Revision ID: 85754591f7b2
Revises: 11f7c9539bbe
Create Date: 2026-12-06 10:10:17.906017

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

templates = sa.table("message_templates", sa.column("trigger", sa.String), sa.column("language", sa.String),
                     sa.column("name", sa.String), sa.column("body", sa.Text), sa.column("is_enabled", sa.Boolean),
                     sa.column("needs_review", sa.Boolean), sa.column("updated_at", sa.DateTime(timezone=True)))
LANGUAGE_NAMES = {"cy": "Welsh", "ar": "Arabic", "ur": "Urdu", "pl": "Polish", "zh": "Chinese", "sk": "Slovak",
                  "so": "Somali"}
# Names staff typed for a language (the interpreter outcome) -> ISO 639-1.
NAME_TO_CODE = {**{name.lower(): code for code, name in LANGUAGE_NAMES.items()}, "english": "en", "bengali": "bn",
                "czech": "cs", "persian": "fa", "farsi": "fa", "french": "fr", "kurdish": "ku", "panjabi": "pa",
                "punjabi": "pa", "portuguese": "pt", "romanian": "ro", "russian": "ru", "spanish": "es",
                "tigrinya": "ti", "turkish": "tr", "ukrainian": "uk", "mandarin": "zh", "cantonese": "zh"}

# Copied here (not imported) so this migration never changes when the app's defaults do. Written for TTS and
# marked needs_review: an administrator confirms each once a qualified translator has checked it.
TRANSLATIONS = {
    "cy": {
        "introduction": "Helo {first_name}, tîm profi ac olrhain y cyngor sydd yma. Byddwn yn eich ffonio cyn bo hir o {team_phone}. Gallwch ddweud wrthym nawr pwy rydych wedi bod mewn cysylltiad â nhw, ar-lein: {link} Atebwch STOP i optio allan.",
        "missed_call": "Helo {first_name}, gwnaethom geisio eich ffonio o dîm profi ac olrhain y cyngor. Byddwn yn ceisio eto, neu ffoniwch ni ar {team_phone}.",
        "isolation_advice": "Diolch am siarad â ni, {first_name}. Arhoswch gartref tan ddiwedd {end_date}. Os oes angen help arnoch gyda bwyd, meddyginiaeth neu arian, ffoniwch {team_phone}.",
        "checkin": "Helo {first_name}, dyma eich gwiriad gan dîm profi ac olrhain y cyngor. Sut ydych chi? Atebwch 1 os ydych yn iach, 2 os oes gennych symptomau neu os ydych yn teimlo'n waeth, 3 os oes angen help arnoch.",
        "support_arranged": "Helo {first_name}, mae'r cymorth y buom yn siarad amdano wedi'i drefnu. Cwestiynau? Ffoniwch {team_phone}.",
        "contact_advice": "Helo {first_name}, tîm profi ac olrhain y cyngor sydd yma. Mae rhywun y buoch mewn cysylltiad agos â nhw wedi cael prawf positif am COVID-19. Arhoswch gartref tan ddiwedd {end_date}. Dywedwch wrthym eich bod wedi darllen hwn, gofynnwch i ni eich ffonio, neu dywedwch wrthym am symptomau: {link} Neu ffoniwch {team_phone}.",
    },
    "ar": {
        "introduction": "مرحبًا {first_name}، معك فريق الفحص والتتبع في المجلس. سنتصل بك قريبًا من الرقم {team_phone}. يمكنك الآن إخبارنا عبر الإنترنت بالأشخاص الذين خالطتهم: {link} أرسل STOP لإلغاء الاشتراك.",
        "missed_call": "مرحبًا {first_name}، حاولنا الاتصال بك من فريق الفحص والتتبع في المجلس. سنحاول مرة أخرى، أو اتصل بنا على {team_phone}.",
        "isolation_advice": "شكرًا لتحدثك معنا يا {first_name}. يرجى البقاء في المنزل حتى نهاية يوم {end_date}. إذا احتجت مساعدة في الطعام أو الدواء أو المال، اتصل على {team_phone}.",
        "checkin": "مرحبًا {first_name}، هذه رسالة اطمئنان من فريق الفحص والتتبع في المجلس. كيف حالك؟ أرسل 1 إذا كنت بخير، 2 إذا ظهرت عليك أعراض أو ساءت حالتك، 3 إذا احتجت مساعدة.",
        "support_arranged": "مرحبًا {first_name}، تم ترتيب المساعدة التي تحدثنا عنها. لديك أسئلة؟ اتصل على {team_phone}.",
        "contact_advice": "مرحبًا {first_name}، معك فريق الفحص والتتبع في المجلس. شخص خالطته عن قرب جاءت نتيجة فحصه إيجابية لكوفيد-19. يرجى البقاء في المنزل حتى نهاية يوم {end_date}. أخبرنا أنك قرأت هذه الرسالة، أو اطلب أن نتصل بك، أو أخبرنا عن الأعراض: {link} أو اتصل على {team_phone}.",
    },
    "ur": {
        "introduction": "السلام علیکم {first_name}، یہ کونسل کی ٹیسٹ اینڈ ٹریس ٹیم ہے۔ ہم جلد ہی آپ کو {team_phone} سے کال کریں گے۔ آپ ابھی آن لائن بتا سکتے ہیں کہ آپ کن لوگوں سے ملے: {link} پیغامات بند کرنے کے لیے STOP لکھ کر بھیجیں۔",
        "missed_call": "السلام علیکم {first_name}، ہم نے کونسل کی ٹیسٹ اینڈ ٹریس ٹیم کی طرف سے آپ کو کال کرنے کی کوشش کی۔ ہم دوبارہ کوشش کریں گے، یا ہمیں {team_phone} پر کال کریں۔",
        "isolation_advice": "ہم سے بات کرنے کا شکریہ، {first_name}۔ براہ کرم {end_date} کے اختتام تک گھر پر رہیں۔ اگر آپ کو کھانے، دوا یا پیسوں کے لیے مدد چاہیے تو {team_phone} پر کال کریں۔",
        "checkin": "السلام علیکم {first_name}، یہ کونسل کی ٹیسٹ اینڈ ٹریس ٹیم کی طرف سے خیریت کا پیغام ہے۔ آپ کیسے ہیں؟ اگر آپ ٹھیک ہیں تو 1، اگر علامات ہیں یا طبیعت زیادہ خراب ہے تو 2، اور اگر مدد چاہیے تو 3 لکھ کر بھیجیں۔",
        "support_arranged": "السلام علیکم {first_name}، جس مدد کی ہم نے بات کی تھی اس کا انتظام ہو گیا ہے۔ کوئی سوال؟ {team_phone} پر کال کریں۔",
        "contact_advice": "السلام علیکم {first_name}، یہ کونسل کی ٹیسٹ اینڈ ٹریس ٹیم ہے۔ جس شخص سے آپ کا قریبی رابطہ ہوا اس کا COVID-19 ٹیسٹ مثبت آیا ہے۔ براہ کرم {end_date} کے اختتام تک گھر پر رہیں۔ ہمیں بتائیں کہ آپ نے یہ پڑھ لیا ہے، ہم سے کال کی درخواست کریں، یا علامات کے بارے میں بتائیں: {link} یا {team_phone} پر کال کریں۔",
    },
    "pl": {
        "introduction": "Dzień dobry {first_name}, tu zespół ds. testowania i śledzenia kontaktów rady miasta. Wkrótce zadzwonimy z numeru {team_phone}. Już teraz możesz podać online, z kim miałeś/miałaś kontakt: {link} Odpowiedz STOP, aby zrezygnować.",
        "missed_call": "Dzień dobry {first_name}, próbowaliśmy do Ciebie zadzwonić z zespołu ds. testowania i śledzenia kontaktów rady miasta. Spróbujemy ponownie lub zadzwoń do nas: {team_phone}.",
        "isolation_advice": "Dziękujemy za rozmowę, {first_name}. Prosimy zostać w domu do końca dnia {end_date}. Jeśli potrzebujesz pomocy z jedzeniem, lekami lub pieniędzmi, zadzwoń: {team_phone}.",
        "checkin": "Dzień dobry {first_name}, tu zespół ds. testowania i śledzenia kontaktów rady miasta. Jak się czujesz? Odpowiedz 1, jeśli dobrze, 2, jeśli masz objawy lub czujesz się gorzej, 3, jeśli potrzebujesz pomocy.",
        "support_arranged": "Dzień dobry {first_name}, pomoc, o której rozmawialiśmy, została zorganizowana. Pytania? Zadzwoń: {team_phone}.",
        "contact_advice": "Dzień dobry {first_name}, tu zespół ds. testowania i śledzenia kontaktów rady miasta. Osoba, z którą miałeś/miałaś bliski kontakt, ma pozytywny wynik testu na COVID-19. Prosimy zostać w domu do końca dnia {end_date}. Potwierdź, że to przeczytałeś/przeczytałaś, poproś o telefon lub zgłoś objawy: {link} Albo zadzwoń: {team_phone}.",
    },
    "zh": {
        "introduction": "{first_name}您好，这里是市议会检测与追踪团队。我们将很快用 {team_phone} 给您打电话。您现在可以在网上告诉我们您接触过哪些人：{link} 回复 STOP 可退订。",
        "missed_call": "{first_name}您好，市议会检测与追踪团队刚才尝试给您打电话。我们会再打给您，您也可以拨打 {team_phone} 联系我们。",
        "isolation_advice": "{first_name}，感谢您与我们通话。请在家隔离至 {end_date} 结束。如需食物、药品或经济方面的帮助，请拨打 {team_phone}。",
        "checkin": "{first_name}您好，这是市议会检测与追踪团队的问候。您身体怎么样？身体良好请回复 1，有症状或感觉更差请回复 2，需要帮助请回复 3。",
        "support_arranged": "{first_name}您好，我们谈到的帮助已经安排好了。如有疑问，请拨打 {team_phone}。",
        "contact_advice": "{first_name}您好，这里是市议会检测与追踪团队。与您有过密切接触的人新冠病毒检测呈阳性。请在家隔离至 {end_date} 结束。请告诉我们您已阅读此信息、希望我们给您打电话，或告诉我们您的症状：{link} 也可以拨打 {team_phone}。",
    },
    "sk": {
        "introduction": "Dobrý deň {first_name}, tu je tím mestskej rady pre testovanie a trasovanie. Čoskoro vám zavoláme z čísla {team_phone}. Už teraz nám môžete online povedať, s kým ste boli v kontakte: {link} Odpovedzte STOP, ak nechcete dostávať správy.",
        "missed_call": "Dobrý deň {first_name}, pokúšali sme sa vám zavolať z tímu mestskej rady pre testovanie a trasovanie. Skúsime to znova, alebo nám zavolajte na {team_phone}.",
        "isolation_advice": "Ďakujeme, že ste sa s nami porozprávali, {first_name}. Zostaňte prosím doma do konca dňa {end_date}. Ak potrebujete pomoc s jedlom, liekmi alebo peniazmi, zavolajte na {team_phone}.",
        "checkin": "Dobrý deň {first_name}, tu je tím mestskej rady pre testovanie a trasovanie. Ako sa máte? Odpovedzte 1, ak ste v poriadku, 2, ak máte príznaky alebo je vám horšie, 3, ak potrebujete pomoc.",
        "support_arranged": "Dobrý deň {first_name}, pomoc, o ktorej sme hovorili, je zariadená. Otázky? Zavolajte na {team_phone}.",
        "contact_advice": "Dobrý deň {first_name}, tu je tím mestskej rady pre testovanie a trasovanie. Osoba, s ktorou ste boli v blízkom kontakte, mala pozitívny test na COVID-19. Zostaňte prosím doma do konca dňa {end_date}. Potvrďte, že ste si to prečítali, požiadajte o telefonát alebo nám povedzte o príznakoch: {link} Alebo zavolajte na {team_phone}.",
    },
    "so": {
        "introduction": "Salaan {first_name}, waa kooxda baaritaanka iyo raadraaca ee golaha. Dhowaan ayaan kaaga soo wici doonnaa {team_phone}. Hadda waxaad onlayn nooga sheegi kartaa dadka aad la kulantay: {link} Ku jawaab STOP si aad uga baxdo.",
        "missed_call": "Salaan {first_name}, waxaan isku daynay inaan ku soo wacno annagoo ah kooxda baaritaanka iyo raadraaca ee golaha. Mar kale ayaan isku dayi doonnaa, ama nagala soo xiriir {team_phone}.",
        "isolation_advice": "Waad ku mahadsan tahay inaad nala hadashay, {first_name}. Fadlan guriga joog ilaa dhammaadka {end_date}. Haddii aad u baahan tahay caawimaad cunto, daawo ama lacag, wac {team_phone}.",
        "checkin": "Salaan {first_name}, tani waa hubin ka timid kooxda baaritaanka iyo raadraaca ee golaha. Sidee tahay? Ku jawaab 1 haddii aad fiican tahay, 2 haddii aad calaamado leedahay ama aad ka sii dartay, 3 haddii aad caawimaad u baahan tahay.",
        "support_arranged": "Salaan {first_name}, caawimaaddii aan ka wada hadalnay waa la diyaariyey. Su'aalo? Wac {team_phone}.",
        "contact_advice": "Salaan {first_name}, waa kooxda baaritaanka iyo raadraaca ee golaha. Qof aad xiriir dhow la lahayd ayaa laga helay COVID-19. Fadlan guriga joog ilaa dhammaadka {end_date}. Noo sheeg inaad tan akhriday, naga codso inaan ku soo wacno, ama noo sheeg calaamadaha: {link} Ama wac {team_phone}.",
    },
}



# revision identifiers, used by Alembic.
revision = '85754591f7b2'
down_revision = '11f7c9539bbe'
branch_labels = None
depends_on = None


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('needs_review', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_message_templates_trigger'), type_='unique')
        batch_op.create_unique_constraint('uq_message_templates_trigger_language', ['trigger', 'language'])
        batch_op.create_foreign_key(batch_op.f('fk_message_templates_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])

    # ### end Alembic commands ###
    bind = op.get_bind()
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    names = dict(bind.execute(sa.select(templates.c.trigger, templates.c.name)).all())
    op.bulk_insert(templates, [
        {"trigger": trigger, "language": code, "name": f"{names.get(trigger, trigger)} ({LANGUAGE_NAMES[code]})",
         "body": body, "is_enabled": True, "needs_review": True, "updated_at": stamp}
        for code, texts in TRANSLATIONS.items() for trigger, body in texts.items() if trigger in names])
    people = sa.table("people", sa.column("language", sa.String))
    for (value,) in bind.execute(sa.select(people.c.language).where(people.c.language.is_not(None)).distinct()).all():
        code = NAME_TO_CODE.get(value.strip().lower())
        if code and code != value:
            bind.execute(people.update().where(people.c.language == value).values(language=code))


def downgrade():
    op.execute(templates.delete().where(templates.c.language != "en"))
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_message_templates_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint('uq_message_templates_trigger_language', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_message_templates_trigger'), ['trigger'])
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('needs_review')
        batch_op.drop_column('language')

    # ### end Alembic commands ###
