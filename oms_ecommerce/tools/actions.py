"""The window actions the addon's buttons return, written once.

A button that opens a list or a wizard an XML action already describes loads that action
(``self.env["ir.actions.act_window"]._for_xml_id(xmlid)``) and adjusts its name, domain and context. A button
that opens given records, or a wizard no XML action describes, returns ``window_action(records, ...)``.
"""


def window_action(records, name=None, *, domain=None, context=None, **values):
    """An action opening ``records`` in the web client, as Odoo's ``_get_records_action`` builds it.

    One record opens its form; several open their list, then a form; an empty recordset opens a blank form
    (a wizard: pass ``target="new"``) or, given ``domain``, the list of the records the domain finds.
    The action's context is ``context`` alone: the caller's context (its defaults, its search filters) is not
    handed on to the records opened. ``values`` (``target``, ``views``…) overwrite the defaults.
    """
    if domain is not None:
        values = {"views": [(False, "list"), (False, "form")], "domain": domain, **values}
    if name:
        values["name"] = name
    return records._get_records_action(context=context or {}, **values)
