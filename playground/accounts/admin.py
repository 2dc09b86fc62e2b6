from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from playground.accounts.models import Membership, Project, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Playground", {"fields": ("must_change_password", "current_project")}))
    list_display = ("username", "email", "is_staff", "is_active", "must_change_password")
    raw_id_fields = ("current_project",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("team", "user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("team__name", "user__username", "user__email")
    raw_id_fields = ("team", "user")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "archived_at", "created_at")
    list_filter = ("archived_at",)
    search_fields = ("name", "team__name")
    raw_id_fields = ("team",)
