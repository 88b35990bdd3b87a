import { registry } from "@web/core/registry";

// A customer asks for help from their order page on the portal.
registry.category("web_tour.tours").add("oms_portal_ticket_tour", {
    steps: () => [
        {
            content: "The order page offers help with this order",
            trigger: "a.o_oms_need_help",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order is already chosen",
            trigger: ".o_oms_ticket_form select[name='order_id']:has(option[selected]:not([value='']))",
        },
        {
            content: "Say what it is about",
            trigger: ".o_oms_ticket_form input[name='subject']",
            run: "edit My parcel is late",
        },
        {
            content: "and the question",
            trigger: ".o_oms_ticket_form textarea[name='message']",
            run: "edit Any news? It was due on Monday.",
        },
        {
            content: "Send it",
            trigger: ".o_oms_ticket_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The request is open, with its number, and waits for the desk",
            trigger: ".o_oms_ticket_stage:contains('New')",
        },
        {
            content: "Listed among the customer's help requests",
            trigger: "a[href='/my/tickets']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "with its subject",
            trigger: "td:contains('My parcel is late')",
        },
    ],
});
