"""The policy list's filters by kind of schedule and of retention (the member of each pair stored)."""

from django.contrib import admin


class ScheduleKindFilter(admin.SimpleListFilter):
    title = "schedule"
    parameter_name = "schedule"

    def lookups(self, request, model_admin):
        return [("weekdays", "Days of the week"), ("interval", "Every N days")]

    def queryset(self, request, queryset):
        if self.value() == "weekdays":
            return queryset.filter(frequency__isnull=True)
        if self.value() == "interval":
            return queryset.filter(frequency__isnull=False)
        return queryset


class RetentionKindFilter(admin.SimpleListFilter):
    title = "retention"
    parameter_name = "retention"

    def lookups(self, request, model_admin):
        return [("count", "A number of backups"), ("days", "A number of days")]

    def queryset(self, request, queryset):
        if self.value() == "count":
            return queryset.filter(retention_num__isnull=False)
        if self.value() == "days":
            return queryset.filter(retention_day__isnull=False)
        return queryset
