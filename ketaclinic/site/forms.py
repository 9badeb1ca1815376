from __future__ import annotations

from django import forms

from ketaclinic.site.models import Page


class PageForm(forms.ModelForm[Page]):
    class Meta:
        model = Page
        fields = ["title", "summary", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24})}
        help_texts = {
            "body": "Markdown: ## for a heading, - for a list item, [text](https://...) for a "
            "link. Scripts, styles and images are removed when the page is shown. The crisis "
            "notice and the 'not medical advice' notice are added to every page automatically.",
        }
