import html
import re
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config

from ..models.oms_order_step import NOTIFIED_STEPS
from ..models.oms_rma_step import NOTIFIED_RMA_STEPS
from .common import order_payload
from .test_returns import OmsReturnsCommon

LANGS = ("fr_FR", "de_DE", "es_ES")

# Words every customer email of a language has (greeting, the items' table) and its order or return link.
GREETING = {"fr_FR": "Bonjour Claire", "de_DE": "Hallo Claire", "es_ES": "Hola Claire"}
ITEMS = {"fr_FR": ("Article", "Quantité"), "de_DE": ("Artikel", "Menge"), "es_ES": ("Artículo", "Cantidad")}
FOLLOW_ORDER = {"fr_FR": "Suivre votre commande", "de_DE": "Bestellung verfolgen", "es_ES": "Seguir su pedido"}
FOLLOW_RETURN = {"fr_FR": "Suivre votre retour", "de_DE": "Rücksendung verfolgen", "es_ES": "Seguir su devolución"}

# What each email's subject says, per language.
STEP_SUBJECTS = {
    "received": ("nous avons bien reçu votre commande", "Ihre Bestellung ist eingegangen", "hemos recibido su pedido"),
    "confirmed": ("votre commande est confirmée", "Ihre Bestellung ist bestätigt", "su pedido está confirmado"),
    "packed": ("votre commande est emballée", "Ihre Bestellung ist verpackt", "su pedido está embalado"),
    "shipped": ("votre commande a été expédiée", "Ihre Bestellung wurde versandt", "su pedido ha sido enviado"),
    "delivered": ("votre commande a été livrée", "Ihre Bestellung wurde zugestellt", "su pedido ha sido entregado"),
    "delayed": ("votre commande a du retard", "Ihre Bestellung verzögert sich", "su pedido se retrasa"),
    "cancelled": ("votre commande a été annulée", "Ihre Bestellung wurde storniert", "su pedido ha sido cancelado"),
}
RMA_SUBJECTS = {
    "requested": (
        "nous avons bien reçu votre demande de retour",
        "Ihre Rücksendeanfrage ist eingegangen",
        "hemos recibido su solicitud de devolución",
    ),
    "approved": ("votre retour est accepté", "Ihre Rücksendung ist genehmigt", "su devolución ha sido aprobada"),
    "refused": (
        "votre demande de retour a été refusée",
        "Ihre Rücksendeanfrage wurde abgelehnt",
        "su solicitud de devolución ha sido rechazada",
    ),
    "received": (
        "nous avons bien reçu votre colis retourné",
        "Ihr Rücksendepaket ist bei uns eingegangen",
        "hemos recibido su paquete devuelto",
    ),
    "refunded": ("votre remboursement est en route", "Ihre Erstattung ist unterwegs", "su reembolso está en camino"),
    "exchanged": ("votre échange a été expédié", "Ihr Umtausch wurde versandt", "su cambio ha sido enviado"),
}

# Elements whose content the rendering replaces: their sample text ("Ann", "S00001") is not the template's words.
DYNAMIC = ("t-out", "t-esc", "t-field", "t-raw")


def text_of(markup):
    """The words a reader sees in rendered HTML: tags out, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(markup))).split())


def english_sentences(source):
    """The template's own English text (its text nodes, not the values it fills in), one string per node.

    A translation that goes missing falls back to these, so none may appear in a translated rendering."""
    root = etree.fromstring(f"<root>{source}</root>")
    found = []

    def walk(node):
        if not any(attr in node.attrib for attr in DYNAMIC):
            found.append(node.text)
            for child in node:
                walk(child)
        found.append(node.tail)

    for child in root:
        walk(child)
    sentences = (" ".join((text or "").split()).strip(" ,.:;()—") for text in found)
    return sorted({s for s in sentences if len(s) > 2 and re.search(r"[A-Za-z]{3}", s)})


def english_subject(source):
    """The subject's English words, without its ``{{ … }}`` expressions."""
    parts = re.split(r"\{\{.*?\}\}", source)
    return [p.strip(" ,.:;()[]") for p in parts if re.search(r"[A-Za-z]{3}", p)]


@tagged("post_install", "-at_install")
class TestCustomerLanguages(HttpCase, OmsReturnsCommon):
    """The shipped French, German and Spanish translations reach the customer: every step email, the return
    and ticket emails, the portal, the packing slip and the labels, with no English left and the values filled in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("report.url", f"http://127.0.0.1:{config['http_port']}")
        cls.company.email = "shop@example.com"
        for code in LANGS:
            cls.env["res.lang"]._activate_lang(code)
        # What installing the addon in a database with these languages does: load i18n/<lang>.po.
        cls.env["ir.module.module"]._load_module_terms(["oms_ecommerce"], list(LANGS), overwrite=True)
        cls.carrier.tracking_url = "https://track.example.com/p/<shipmenttrackingnumber>"

    def _customer_order(self, code, external_id):
        """A shipped, tracked channel order of a customer who reads ``code``."""
        self.channel.lang = code
        picking = self.delivery(
            external_id, customer={"email": f"claire.{external_id}@example.com", "name": "Claire", "phone": ""}
        )
        picking.partner_id.name = "Claire"
        order = picking.sale_id
        self.assertEqual(order.partner_id.lang, code, "the channel's language is the new customer's")
        self.assertEqual(picking.partner_id.lang, code)
        self.pack_all(picking, tracking_ref=f"1Z{external_id.upper()}")
        return picking

    def _render(self, xmlid, records):
        """Subject and body of a template for ``records``, each in its recipient's language, as the step
        emails are composed (``oms.order.step._oms_post``)."""
        template = self.env.ref(xmlid)
        subjects = template._render_field("subject", records.ids, compute_lang=True)
        bodies = template._render_field("body_html", records.ids, compute_lang=True, options={"post_process": True})
        return template, {record: (subjects[record.id], bodies[record.id]) for record in records}

    def assertNoEnglish(self, template, subject, body):
        english = template.with_context(lang="en_US")
        for sentence in english_subject(english.subject):
            self.assertNotIn(sentence, subject, f"{template.name}: English left in the subject")
        text = text_of(body)
        for sentence in english_sentences(english.body_html):
            self.assertNotIn(sentence, text, f"{template.name}: English left in the body")

    # ------------------------------------------------------------------ emails
    def test_step_emails_in_each_language(self):
        orders = self.env["sale.order"]
        for code in LANGS:
            orders |= self._customer_order(code, f"i18n-{code[:2]}").sale_id
        self.assertEqual(set(NOTIFIED_STEPS), set(STEP_SUBJECTS), "every step email is checked")
        for step, expected in STEP_SUBJECTS.items():
            template, rendered = self._render(f"oms_ecommerce.mail_template_oms_{step}", orders)
            for order, phrase in zip(orders, expected, strict=True):
                code = order.partner_id.lang
                subject, body = rendered[order]
                with self.subTest(step=step, lang=code):
                    self.assertIn(phrase, subject)
                    self.assertIn("Test Shop", subject, "the expressions of the subject are kept")
                    self.assertIn(order.client_order_ref or order.name, subject)
                    text = text_of(body)
                    for words in (GREETING[code], FOLLOW_ORDER[code], *ITEMS[code], "OMS Mug"):
                        self.assertIn(words, text)
                    self.assertIn(order.client_order_ref or order.name, text)
                    self.assertIn("access_token=", body, "the portal link is kept")
                    if step in ("shipped", "delivered"):
                        self.assertIn(f"1Z{order.client_order_ref.upper()}", text, "the tracking block is kept")
                    self.assertNoEnglish(template, subject, body)

    def test_step_email_sent_in_the_customers_language(self):
        """The real path: the channel's French customer gets the 'received' email in French, queued by the
        step-email job, whatever the language of the request that enqueued it (German here)."""
        self.channel.lang = "fr_FR"
        [(status, body)] = self.Intake.with_context(lang="de_DE")._receive(
            self.channel, [order_payload("i18n-sent", customer={"email": "chloe@example.fr", "name": "Chloé"})]
        )
        self.assertEqual(status, 201, body)
        order = self.env["sale.order"].browse(body["id"])
        jobs = self.env["queue.job"].search([("method_name", "=", "_oms_job_notify"), ("state", "=", "pending")])
        job = jobs.filtered(lambda j: j.records.exists().order_id == order)  # a demo job may name a deleted step
        self.assertEqual(len(job), 1, "the step's email waits for its job")
        self.assertEqual(job.records.env.lang, "de_DE", "the job runs in the context it was enqueued with")
        # Run as queue_job's runner would (the demo data's own step-email jobs are left alone).
        self.assertEqual(Job.load(self.env, job.uuid).perform(), 1)
        mail = self.env["mail.mail"].search([("model", "=", "sale.order"), ("res_id", "=", order.id)])
        self.assertEqual(mail.subject, "Test Shop : nous avons bien reçu votre commande (i18n-sent)")
        self.assertIn("Bonjour Ann Lee", text_of(mail.body_html), "greeted by the shipping name")
        self.assertNotIn("Thank you", text_of(mail.body_html))

    def test_return_emails_in_each_language(self):
        leads = self.env["rma"]
        for code in LANGS:
            picking = self._customer_order(code, f"rt-{code[:2]}")
            self.ship(picking)
            order = picking.sale_id
            order.action_oms_mark_delivered()
            rmas = self.ask(order, (self.mug, 1))
            leads |= rmas[0]
            # The acknowledgement the customer really got is in their language.
            [subject] = self.customer_emails(rmas)
            self.assertIn(RMA_SUBJECTS["requested"][LANGS.index(code)], subject)
        self.assertEqual(set(NOTIFIED_RMA_STEPS), set(RMA_SUBJECTS), "every return email is checked")
        for step, expected in RMA_SUBJECTS.items():
            template, rendered = self._render(f"oms_ecommerce.mail_template_oms_rma_{step}", leads)
            for lead, phrase in zip(leads, expected, strict=True):
                code = lead.partner_id.lang
                subject, body = rendered[lead]
                with self.subTest(step=step, lang=code):
                    self.assertIn(phrase, subject)
                    self.assertIn(lead.name, subject)
                    text = text_of(body)
                    for words in (GREETING[code], FOLLOW_RETURN[code], *ITEMS[code], "OMS Mug", lead.name):
                        self.assertIn(words, text)
                    self.assertNoEnglish(template, subject, body)

    def test_ticket_acknowledgement_and_canned_replies_in_each_language(self):
        expected = {
            "fr_FR": ("Nous avons bien reçu votre message", "Votre demande porte le numéro", "heures ouvrées"),
            "de_DE": ("Wir haben Ihre Nachricht erhalten", "Ihre Anfrage hat die Nummer", "Arbeitsstunden"),
            "es_ES": ("Hemos recibido su mensaje", "Su solicitud tiene el número", "horas laborables"),
        }
        step_label = {"fr_FR": "Expédiée", "de_DE": "Versandt", "es_ES": "Enviado"}
        ack = self.env.ref("oms_ecommerce.mail_template_ticket_ack")
        tickets = self.env["oms.ticket"]
        for code in LANGS:
            order = self._customer_order(code, f"tk-{code[:2]}").sale_id
            self.ship(order.picking_ids)
            ticket = self.env["oms.ticket"].create(
                {"subject": "Taille", "partner_id": order.partner_id.id, "order_id": order.id}
            )
            tickets |= ticket
            # The acknowledgement really posted to the customer.
            message = ticket.message_ids.filtered(lambda m, t=ticket: m.partner_ids == t.partner_id)
            self.assertEqual(len(message), 1)
            subject_words, body_words, hours = expected[code]
            self.assertIn(subject_words, message.subject)
            self.assertIn("Taille", message.subject)
            text = text_of(message.body)
            for words in (GREETING[code], body_words, hours, ticket.name):
                self.assertIn(words, text)
            self.assertNoEnglish(ack, message.subject, message.body)
        # The canned replies, filled in from the live order, in the customer's language.
        for xmlid in ("where", "generic", "return", "damaged"):
            template, rendered = self._render(f"oms_ecommerce.mail_template_ticket_{xmlid}", tickets)
            for ticket in tickets:
                code = ticket.partner_id.lang
                subject, body = rendered[ticket]
                with self.subTest(template=xmlid, lang=code):
                    self.assertIn(GREETING[code], text_of(body))
                    if xmlid in ("where", "generic"):
                        self.assertIn(step_label[code], text_of(body), "the order's step in their language")
                        self.assertNotIn("Shipped", text_of(body))
                    self.assertNoEnglish(template, subject, body)

    def test_deal_email_in_each_language(self):
        deal = self.env["oms.deal"].create(
            {
                "name": "-10 %",
                "body": "<p>-10 %</p>",
                "coupon_code": "SAVE10",
                "valid_until": fields.Date.today() + timedelta(days=30),
            }
        )
        recipients = self.env["oms.deal.recipient"]
        for code in LANGS:
            partner = self.env["res.partner"].create(
                {"name": "Claire", "email": f"deal.{code}@example.com", "lang": code}
            )
            recipients |= self.env["oms.deal.recipient"].create({"deal_id": deal.id, "partner_id": partner.id})
        expected = {"fr_FR": "Se désabonner", "de_DE": "Abmelden", "es_ES": "Darse de baja"}
        template, rendered = self._render("oms_ecommerce.mail_template_oms_deal", recipients)
        for recipient in recipients:
            code = recipient.partner_id.lang
            subject, body = rendered[recipient]
            self.assertIn(expected[code], text_of(body))
            self.assertIn("SAVE10", text_of(body))
            self.assertIn(recipient.unsubscribe_url, body)
            self.assertNoEnglish(template, subject, body)

    # ------------------------------------------------------------------ portal
    def test_portal_timeline_and_return_form_in_spanish(self):
        picking = self._customer_order("es_ES", "pt-es")
        self.ship(picking)
        order = picking.sale_id
        order.action_oms_mark_delivered()
        new_test_user(self.env, "claire_es", groups="base.group_portal", partner_id=order.partner_id.id)
        self.authenticate("claire_es", "claire_es")
        page = text_of(self.url_open(f"/my/orders/{order.id}").text)
        for words in (
            "Su pedido, paso a paso",
            "Estado:",
            "Recibido",
            "Confirmado",
            "Enviado",
            "Entregado",
            "Seguimiento:",
            "¿Necesita ayuda con este pedido?",
            "Devolver o cambiar artículos",
        ):
            self.assertIn(words, page)
        # Only this addon's sentences: Odoo's own portal strings come with Odoo's translations.
        for english in ("Your order, step by step", "Need help with this order?", "Return or exchange items"):
            self.assertNotIn(english, page)
        form = text_of(self.url_open(f"/my/orders/{order.id}/return").text)
        for words in (
            "Devolver o cambiar artículos del pedido",
            "Se aceptan devoluciones hasta el",
            "No me queda bien",
            "He cambiado de opinión",
            "Reembolso",
            "Cambio",
            "Solicitar la devolución",
        ):
            self.assertIn(words, form)
        for english in (
            "Does not fit",
            "Changed my mind",
            "Request the return",
            "Returns accepted until",
            "Anything else we should know?",
        ):
            self.assertNotIn(english, form)

    # ------------------------------------------------------------------ documents
    def _html(self, report, records):
        content, _kind = self.env["ir.actions.report"]._render_qweb_html(report, records.ids)
        return text_of(content.decode())

    def test_packing_slip_and_shipping_label_in_the_customers_language(self):
        picking = self._customer_order("de_DE", "doc-de")
        slip = self._html("oms_ecommerce.action_report_packing_slip", picking)
        for words in (
            "Lieferschein",
            "Artikel",
            "Artikelnr.",
            "Menge",
            "Einzelpreis",
            "Paket 1 von 1",
            "Verfolgen Sie Ihre Bestellung online",
            "Rücksendungen",
            "OMS Mug",
        ):
            self.assertIn(words, slip)
        for english in ("Packing Slip", "Unit Price", "Quantity", "Follow your order online", "Parcel"):
            self.assertNotIn(english, slip)
        label = self._html("oms_ecommerce.action_report_shipping_label", picking)
        for words in ("ABSENDER", "EMPFÄNGER", "Claire", "Paket 1 von 1", "Bestellung", "1ZDOC-DE"):
            self.assertIn(words, label)
        for english in ("SHIP TO", "FROM", "Parcel", "Order"):
            self.assertNotIn(english, label)

    def test_return_label_in_the_customers_language(self):
        picking = self._customer_order("fr_FR", "rl-fr")
        self.ship(picking)
        order = picking.sale_id
        order.action_oms_mark_delivered()
        rmas = self.ask(order, (self.mug, 1))
        label = self._html("oms_ecommerce.action_report_rma_label", rmas)
        for words in ("EXPÉDITEUR", "RETOUR", "DESTINATAIRE", "Collez cette étiquette sur le colis", rmas[0].name):
            self.assertIn(words, label)
        for english in ("SHIP TO", "RETURN", "Put this label on the parcel"):
            self.assertNotIn(english, label)
