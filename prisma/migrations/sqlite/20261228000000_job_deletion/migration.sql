-- AlterTable
ALTER TABLE "Job" ADD COLUMN "deletedAt" DATETIME;
ALTER TABLE "Job" ADD COLUMN "deletedBy" TEXT;
