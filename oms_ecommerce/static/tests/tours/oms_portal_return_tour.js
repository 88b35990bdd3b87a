import { registry } from "@web/core/registry";

// A customer asks for a return of a delivered order on the portal and downloads the return label.
registry.category("web_tour.tours").add("oms_portal_return_tour", {
    steps: () => [
        {
            content: "The delivered order offers returns",
            trigger: "a.o_oms_return_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Return one mug",
            trigger: "tr:contains('OMS Mug') input[type=number]",
            run: "edit 1",
        },
        {
            content: "It arrived damaged",
            trigger: "tr:contains('OMS Mug') select[name^=reason]",
            run: "select damaged",
        },
        {
            content: "Send the request",
            trigger: "button.o_oms_return_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The return's page shows its steps: requested, approved at once by the channel's rule",
            trigger: "#oms_rma_timeline .o_oms_rma_step:contains('Approved')",
        },
        {
            content: "Download the return label",
            trigger: "a.o_oms_rma_label",
            run: async function () {
                const href = document.querySelector("a.o_oms_rma_label").getAttribute("href");
                const response = await fetch(href);
                const type = response.headers.get("Content-Type");
                if (response.status !== 200 || type !== "application/pdf") {
                    throw new Error(`The label did not download: ${response.status} ${type}`);
                }
                document.body.classList.add("o_oms_label_downloaded");
            },
        },
        {
            content: "The label was downloaded",
            trigger: "body.o_oms_label_downloaded",
        },
    ],
});
