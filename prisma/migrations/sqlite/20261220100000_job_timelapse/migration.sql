-- AlterTable
ALTER TABLE "Job" ADD COLUMN "timelapseRef" TEXT;
